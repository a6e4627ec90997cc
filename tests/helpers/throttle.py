"""A tiny HTTP proxy in front of the moto server, for what moto cannot do by itself.

- Throttling: it answers the first N requests with AWS's throttling error (HTTP 400,
  code ``Throttling``, the query-protocol error document RDS and the other query APIs
  return). Throttling cannot be caused for real on moto, so the fault is injected at the
  HTTP level: boto3, botocore's retry handler and drydock's error translation all run
  for real.
- Atomic conditional writes: S3 decides an ``If-None-Match``/``If-Match`` write
  atomically; moto checks and then writes, so two writes racing can both pass its check.
  With `atomic_writes` the proxy forwards one write (PUT, DELETE) at a time, which is
  the atomicity S3 gives; the requests still race to it from their own connections.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

THROTTLED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>Sender</Type>'
             b"<Code>Throttling</Code><Message>Rate exceeded</Message></Error>"
             b"<RequestId>throttled-by-test-proxy</RequestId></ErrorResponse>")


@dataclass
class Throttle:
    """The proxy's URL and what it saw: how many requests it refused and forwarded."""

    url: str
    failures: int
    refused: int = 0
    forwarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    writes: threading.Lock = field(default_factory=threading.Lock)

    def take_turn(self) -> bool:
        """True when this request is to be refused."""
        with self.lock:
            if self.refused < self.failures:
                self.refused += 1
                return True
            self.forwarded += 1
            return False


@contextmanager
def throttling_proxy(upstream: str, failures: int = 0, *,
                     atomic_writes: bool = False) -> Iterator[Throttle]:
    """A proxy on a free port of 127.0.0.1 that throttles the first `failures` requests
    and, with `atomic_writes`, forwards one write at a time."""
    target = urlsplit(upstream)
    state = Throttle(url="", failures=failures)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if state.take_turn():
                self.send_response(400)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(THROTTLED)))
                self.end_headers()
                self.wfile.write(THROTTLED)
                return
            if atomic_writes and self.command in ("PUT", "DELETE"):
                with state.writes:
                    self._forward(body)
            else:
                self._forward(body)

        def _forward(self, body: bytes) -> None:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request(self.command, self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            finally:
                conn.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
