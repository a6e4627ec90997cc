"""S3 object streams for repositories: a streaming body reader and a bounded multipart writer."""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from providers.repositories.errors import RepositoryError

MIB = 1 << 20
MIN_PART_SIZE = 5 * MIB
DEFAULT_PART_SIZE = 8 * MIB
MAX_PART_SIZE = 512 * MIB
PARTS_PER_STEP = 1000

Failure = Callable[[Exception], RepositoryError]


def part_size_for(number: int, base: int) -> int:
    """Size of upload part `number` (1-based): `base`, doubled every 1000 parts, capped.

    S3 allows 10,000 parts; growing the size keeps multi-TiB objects possible while
    small objects use small parts.

    >>> part_size_for(1, 8 << 20) == 8 << 20, part_size_for(1001, 8 << 20) == 16 << 20
    (True, True)
    """
    return min(base << ((number - 1) // PARTS_PER_STEP), max(base, MAX_PART_SIZE))


class ObjectReader(io.RawIOBase):
    """An S3 object body as a readable stream; transport errors become RepositoryError."""

    def __init__(self, body: Any, fail: Failure) -> None:
        super().__init__()
        self._body = body
        self._fail = fail

    def readable(self) -> bool:
        """Always True."""
        return True

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        """Read up to `size` bytes (all when negative or None)."""
        from botocore.exceptions import BotoCoreError

        try:
            return self._body.read(None if size is None or size < 0 else size)
        except BotoCoreError as exc:
            raise self._fail(exc) from exc

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill `buffer` from the body; 0 at the end."""
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        """Release the HTTP connection."""
        if not self.closed:
            self._body.close()
        super().close()


class MultipartWriter(io.RawIOBase):
    """A write-only sink that uploads full parts as they fill, at most `threads` in flight.

    Memory stays bounded by (threads + 1) parts. Nothing is visible until ``commit``: a
    sink that never filled a part becomes one ``put_object``, otherwise the multipart
    upload is completed; ``abort`` discards whatever was uploaded.
    """

    def __init__(self, client: Any, bucket: str, key: str, *, part_size: int, threads: int,
                 fail: Failure) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._base = part_size
        self._threads = threads
        self._fail = fail
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pending: deque[Future[dict[str, Any]]] = deque()
        self._done: list[dict[str, Any]] = []
        self._number = 0

    def writable(self) -> bool:
        """Always True."""
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """Buffer `data`, sending every part that fills; returns its length."""
        view = memoryview(data)
        self._buffer += view
        while len(self._buffer) >= part_size_for(self._number + 1, self._base):
            size = part_size_for(self._number + 1, self._base)
            with memoryview(self._buffer) as whole:
                chunk = bytes(whole[:size])
            del self._buffer[:size]
            self._send(chunk)
        return view.nbytes

    def _send(self, chunk: bytes) -> None:
        if self._upload_id is None:
            with self._guard():
                response = self._client.create_multipart_upload(
                    Bucket=self._bucket, Key=self._key, ChecksumAlgorithm="CRC32")
            self._upload_id = str(response["UploadId"])
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="drydock-s3")
        self._number += 1
        self._pending.append(self._pool.submit(self._upload_part, self._number, chunk))
        while len(self._pending) >= self._threads:
            self._done.append(self._pending.popleft().result())

    def _upload_part(self, number: int, chunk: bytes) -> dict[str, Any]:
        with self._guard():
            response = self._client.upload_part(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                PartNumber=number, Body=chunk, ChecksumAlgorithm="CRC32")
        part = {"PartNumber": number, "ETag": response["ETag"]}
        if response.get("ChecksumCRC32"):
            part["ChecksumCRC32"] = response["ChecksumCRC32"]
        return part

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Turn botocore errors inside the block into this upload's RepositoryError."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            raise self._fail(exc) from exc

    def commit(self) -> None:
        """Make the object exist: one put, or the last part and the completion."""
        if self._upload_id is None:
            with self._guard():
                self._client.put_object(Bucket=self._bucket, Key=self._key,
                                        Body=bytes(self._buffer))
            self._buffer.clear()
            return
        if self._buffer:
            self._send(bytes(self._buffer))
            self._buffer.clear()
        while self._pending:
            self._done.append(self._pending.popleft().result())
        self._stop_pool(cancel=False)
        parts = sorted(self._done, key=lambda p: p["PartNumber"])
        with self._guard():
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                MultipartUpload={"Parts": parts})

    def abort(self) -> None:
        """Discard everything uploaded so far (best effort: errors are not raised)."""
        self._buffer.clear()
        self._stop_pool(cancel=True)
        if self._upload_id is not None:
            try:
                self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key,
                                                    UploadId=self._upload_id)
            except Exception:  # noqa: S110 - a leftover upload is removed by cleanup later
                pass

    def _stop_pool(self, *, cancel: bool) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=cancel)
            self._pool = None
        self._pending.clear()
