"""The fake product's server program, written into every built pack as bin/carbon_server.py.

It is self-contained (standard library only, Python 3.11+) because a product home must
run without drydock installed. Run as ``python3 bin/carbon_server.py CARBON_HOME``: it
applies the patches directory the way Carbon does, then serves HTTP on 127.0.0.1 at
9763 + ``[server] offset`` (or ``[server] http_port``) until SIGTERM or SIGINT:

- ``GET /services/Version`` -> ``WSO2 API Manager-4.2.0`` (503 when ``[server]
  fail_start = true`` or the file ``repository/conf/FAIL_HEALTH`` exists);
- ``GET /services/Version?format=json`` and ``GET /services/Status`` -> JSON with
  product, version, update_level, patches, pid and healthy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
import tomllib
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

DEFAULT_HTTP_PORT = 9763
PATCH_DIR = re.compile(r"^patch\d{4,}$")
BASE_PATCH = "patch0000"
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


@dataclass(frozen=True)
class ServerConfig:
    """What the server reads from repository/conf/deployment.toml at start."""

    port: int
    fail_start: bool


@dataclass(frozen=True)
class Identity:
    """Who the server says it is: from bin/version.txt and updates/."""

    name: str
    product: str
    version: str
    update_level: int


def read_config(home: Path) -> ServerConfig:
    """Read ``[server]`` offset / http_port / fail_start from deployment.toml.

    Raises ValueError naming the file when it is not valid TOML or a key has a bad type.
    """
    conf = home / "repository" / "conf" / "deployment.toml"
    try:
        server = tomllib.loads(conf.read_text(encoding="utf-8")).get("server", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{conf}: cannot read server settings ({exc})") from exc
    offset = server.get("offset", 0)
    port = server.get("http_port", DEFAULT_HTTP_PORT + offset if isinstance(offset, int)
                      else None)
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise ValueError(f"{conf}: [server] offset/http_port must give a port in 1..65535")
    return ServerConfig(port=port, fail_start=server.get("fail_start", False) is True)


def read_identity(home: Path) -> Identity:
    """Read the product name/version from bin/version.txt and updates/, with defaults."""
    product, version = "unknown", "0.0.0"
    product_file = home / "updates" / "product.txt"
    if product_file.is_file():
        product, _, version = product_file.read_text(encoding="utf-8").strip().rpartition("-")
    name = product
    version_file = home / "bin" / "version.txt"
    if version_file.is_file():
        name = version_file.read_text(encoding="utf-8").strip().rsplit(" v", 1)[0]
    level = -1
    config_file = home / "updates" / "config.json"
    if config_file.is_file():
        try:
            level = int(json.loads(config_file.read_text(encoding="utf-8"))["update-level"])
        except (ValueError, KeyError, TypeError):
            level = -1
    return Identity(name=name, product=product, version=version, update_level=level)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _copy_atomic(src: Path, dst: Path) -> None:
    """Copy src over dst through a temporary file in dst's folder."""
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.copyfile(src, tmp)
    tmp.replace(dst)


def _jars(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in sorted(folder.glob("*.jar")) if p.is_file()}


def _refresh_base(base: Path, plugins: dict[str, Path], recorded: dict[str, str]) -> None:
    """Take plugin jars changed, added or removed since the last start into patch0000.

    Something other than the server (an update) changed those jars, so the new content
    is the new original that patches are laid over.
    """
    for name, path in plugins.items():
        known = recorded.get(name)
        if (known is not None and known != _sha256(path)) or (
                known is None and not (base / name).exists()):
            _copy_atomic(path, base / name)
    for name in recorded:
        if name not in plugins:
            (base / name).unlink(missing_ok=True)


def apply_patches(home: Path) -> list[str]:
    """Lay the patch directories over the plugins the way Carbon does at start.

    Creates ``patches/patch0000`` from the plugins on first start, restores the plugins
    from it, then copies each ``patchNNNN`` directory's jars over the plugins in name
    order. Writes ``patches/.metadata/prePatchedDir.txt`` and ``prePatchedJARs.txt`` and
    appends to ``repository/logs/patches.log``, as Carbon does. Returns the applied patch
    directory names (``patch0000`` excluded).
    """
    components = home / "repository" / "components"
    plugins_dir, patches_dir = components / "plugins", components / "patches"
    meta, base = patches_dir / ".metadata", patches_dir / BASE_PATCH
    state_file = meta / "pluginState.json"
    recorded: dict[str, str] = {}
    added: list[str] = []
    if state_file.is_file():
        state = json.loads(state_file.read_text(encoding="utf-8"))
        recorded, added = dict(state.get("plugins", {})), list(state.get("added", []))
    if not base.is_dir():
        staging = patches_dir / f".{BASE_PATCH}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name, path in _jars(plugins_dir).items():
            shutil.copyfile(path, staging / name)
        staging.rename(base)
    else:
        _refresh_base(base, _jars(plugins_dir), recorded)
    originals = _jars(base)
    for name in added:
        if name not in originals:
            (plugins_dir / name).unlink(missing_ok=True)
    for name, path in originals.items():
        _copy_atomic(path, plugins_dir / name)
    applied = sorted(p.name for p in patches_dir.iterdir()
                     if p.is_dir() and PATCH_DIR.match(p.name) and p.name != BASE_PATCH)
    now_added: set[str] = set()
    for patch in applied:
        for name, path in _jars(patches_dir / patch).items():
            _copy_atomic(path, plugins_dir / name)
            if name not in originals:
                now_added.add(name)
    meta.mkdir(parents=True, exist_ok=True)
    _write_text(meta / "prePatchedDir.txt", "".join(f"{p}\n" for p in applied))
    _write_text(meta / "prePatchedJARs.txt", "".join(
        f"{name}:{hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()}\n"
        for name, path in _jars(plugins_dir).items()))
    logs = home / "repository" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "patches.log").open("a", encoding="utf-8") as log:
        log.write(f"INFO {{org.wso2.carbon.server.extensions.PatchInstaller}} - Patch changes "
                  f"detected; applied {', '.join(applied) or 'no patches'} over patch0000\n")
    state = {"plugins": {n: _sha256(p) for n, p in _jars(plugins_dir).items()},
             "added": sorted(now_added)}
    _write_text(state_file, json.dumps(state, indent=1, sort_keys=True) + "\n")
    return applied


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


class CarbonHTTPServer(ThreadingHTTPServer):
    """The HTTP server, carrying what the request handler answers with."""

    daemon_threads = True

    def __init__(self, home: Path, config: ServerConfig, identity: Identity,
                 patches: list[str], log: logging.Logger) -> None:
        self.home, self.config, self.identity = home, config, identity
        self.patches, self.log = patches, log
        super().__init__(("127.0.0.1", config.port), CarbonHandler)

    def healthy(self) -> bool:
        """False when fail_start is set or repository/conf/FAIL_HEALTH exists now."""
        failing = (self.home / "repository" / "conf" / "FAIL_HEALTH").exists()
        return not (self.config.fail_start or failing)

    def status(self) -> dict[str, object]:
        """The JSON body of /services/Status."""
        ident = self.identity
        return {"product": ident.product, "version": ident.version, "name": ident.name,
                "update_level": ident.update_level, "patches": self.patches,
                "pid": os.getpid(), "healthy": self.healthy()}


class CarbonHandler(BaseHTTPRequestHandler):
    """Answers /services/Version and /services/Status."""

    server: CarbonHTTPServer

    def do_GET(self) -> None:
        """Serve the version, status or 404."""
        url = urlsplit(self.path)
        as_json = parse_qs(url.query).get("format") == ["json"]
        if url.path == "/services/Version" and not as_json:
            ident = self.server.identity
            if self.server.healthy():
                self._send(200, "text/plain", f"{ident.name}-{ident.version}")
            else:
                self._send(503, "text/plain", "server is not healthy")
        elif url.path in ("/services/Version", "/services/Status"):
            code = 200 if url.path == "/services/Status" or self.server.healthy() else 503
            self._send(code, "application/json", json.dumps(self.server.status()))
        else:
            self._send(404, "text/plain", "not found")

    def _send(self, code: int, content_type: str, body: str) -> None:
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt: str, *args: object) -> None:
        """Send the access log to wso2carbon.log instead of stderr."""
        self.server.log.info("http %s", fmt % args)


def _logger(home: Path) -> logging.Logger:
    logs = home / "repository" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logging.getLogger(f"carbon.{os.getpid()}")
    handler = logging.FileHandler(logs / "wso2carbon.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("[%(asctime)s] %(levelname)s {carbon} - "
                                           "%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return log


def _remove_pid_file(pid_file: Path) -> None:
    try:
        if pid_file.read_text(encoding="utf-8").strip() == str(os.getpid()):
            pid_file.unlink()
    except OSError:
        pass


def main(argv: list[str]) -> int:
    """Start the server for the home in argv[1] (default: this file's ../); return status."""
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    home = Path(argv[1]).resolve() if len(argv) > 1 else Path(__file__).resolve().parents[1]
    log = _logger(home)
    try:
        config = read_config(home)
        identity = read_identity(home)
        patches = apply_patches(home)
        server = CarbonHTTPServer(home, config, identity, patches, log)
    except (OSError, ValueError) as exc:
        log.error("startup failed: %s", exc)
        return 1
    pid_file = home / "wso2carbon.pid"
    _write_text(pid_file, f"{os.getpid()}\n")
    thread = threading.Thread(target=server.serve_forever, args=(0.1,), name="http", daemon=True)
    thread.start()
    log.info("%s-%s started on 127.0.0.1:%d (update level %d, patches %s)", identity.name,
             identity.version, config.port, identity.update_level, ",".join(patches) or "-")
    received = signal.sigwait(_STOP_SIGNALS)
    log.info("received signal %d, shutting down", received)
    server.shutdown()
    server.server_close()
    _remove_pid_file(pid_file)
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
