"""Stream plumbing for parts: metering writers, hashing readers and the verifying reader."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable
from typing import BinaryIO

from providers.repositories.errors import IntegrityError

CHUNK = 1 << 20
DEFAULT_PART_CAP = 1 << 40
CAP_VARIABLE = "DRYDOCK_MAX_PART_BYTES"


def part_cap() -> int:
    """The most bytes one part may decompress to, whatever its manifest says (1 TiB, or
    ``DRYDOCK_MAX_PART_BYTES``)."""
    value = os.environ.get(CAP_VARIABLE, "")
    return int(value) if value.isdigit() else DEFAULT_PART_CAP


class MeteredWriter(io.RawIOBase):
    """Passes writes on to `target`, counting bytes and optionally hashing them (sha256)."""

    def __init__(
        self,
        target: BinaryIO,
        *,
        hashing: bool = True,
        errors: Callable[[OSError], Exception] | None = None,
    ) -> None:
        super().__init__()
        self._target = target
        self._errors = errors
        self._hash = hashlib.sha256() if hashing else None
        self.count = 0

    def writable(self) -> bool:
        """Always True."""
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """Write all of `data` to the target; returns its length."""
        view = memoryview(data)
        if self._hash is not None:
            self._hash.update(view)
        if self._errors is None:
            self._target.write(view)
        else:
            try:
                self._target.write(view)
            except OSError as exc:
                raise self._errors(exc) from exc
        self.count += view.nbytes
        return view.nbytes

    def hexdigest(self) -> str:
        """sha256 of everything written so far."""
        if self._hash is None:
            raise ValueError("this writer does not hash")
        return self._hash.hexdigest()


class HashingReader:
    """Reads from `source`, hashing and counting every byte that passes."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self._hash = hashlib.sha256()
        self.count = 0
        self.eof = False

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all when negative)."""
        data = self._source.read(size if size is not None and size >= 0 else -1)
        if data:
            self._hash.update(data)
            self.count += len(data)
        elif size != 0:
            self.eof = True
        return data

    def drain(self) -> None:
        """Read the rest of the source so the hash covers every byte."""
        while not self.eof:
            self.read(CHUNK)

    def hexdigest(self) -> str:
        """sha256 of the bytes read so far."""
        return self._hash.hexdigest()

    def close(self) -> None:
        """Close the source."""
        self._source.close()


def hash_stream(source: BinaryIO) -> tuple[int, str]:
    """Read `source` to the end; returns (byte count, sha256 hex). The caller closes it."""
    reader = HashingReader(source)
    reader.drain()
    return reader.count, reader.hexdigest()


def copy_stream(source: BinaryIO, target: BinaryIO) -> int:
    """Copy `source` into `target` in 1 MiB chunks; returns bytes copied."""
    total = 0
    while True:
        chunk = source.read(CHUNK)
        if not chunk:
            return total
        target.write(chunk)
        total += len(chunk)


class VerifiedPartReader(io.RawIOBase):
    """Decompressed view of a stored part that checks size and sha256 when fully read.

    At the end of the stream (or on a decompression failure) the rest of the stored bytes
    are read so the hash covers all of them; a mismatch raises IntegrityError. The bytes
    it gives out are bounded while decompressing by the manifest's `raw_size` and the
    global cap: one byte more raises IntegrityError (a decompression bomb stops there).
    `describe` builds the message prefix naming repository, series, snapshot and part.
    """

    def __init__(
        self,
        stored: BinaryIO,
        *,
        size: int,
        sha256: str,
        describe: Callable[[], str],
        raw_size: int | None = None,
    ) -> None:
        import zstandard

        super().__init__()
        self._hashing = HashingReader(stored)
        self._size = size
        self._sha256 = sha256
        self._describe = describe
        self._zstd_error = zstandard.ZstdError
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            self._hashing, read_size=CHUNK, closefd=False
        )
        self._checked = False
        cap = part_cap()
        self._limit = min(raw_size, cap) if raw_size is not None else cap
        self._out = 0

    def readable(self) -> bool:
        """Always True."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Fill `buffer` with decompressed bytes; 0 at the verified end."""
        try:
            count = self._reader.readinto(buffer)
        except self._zstd_error as exc:
            self._check()
            raise IntegrityError(f"{self._describe()}: does not decompress ({exc})") from exc
        if count == 0:
            self._check()
        self._out += count
        if self._out > self._limit:
            raise IntegrityError(
                f"{self._describe()}: decompresses to more than {self._limit} bytes (its "
                f"manifest's raw_size, or {CAP_VARIABLE}); refused before writing more")
        return count

    def _check(self) -> None:
        """Hash the rest of the stored bytes; raise IntegrityError when they differ."""
        if self._checked:
            return
        self._hashing.drain()
        self._checked = True
        digest = self._hashing.hexdigest()
        if self._hashing.count != self._size or digest != self._sha256:
            raise IntegrityError(
                f"{self._describe()}: stored bytes changed (sha256 {digest[:12]}…, "
                f"{self._hashing.count} bytes; manifest says {self._sha256[:12]}…, "
                f"{self._size} bytes); restore from another copy"
            )

    def close(self) -> None:
        """Close the decompressor and the stored stream."""
        if not self.closed:
            try:
                self._reader.close()
            finally:
                self._hashing.close()
        super().close()


def open_verified(
    stored: BinaryIO, *, size: int, sha256: str, describe: Callable[[], str],
    raw_size: int | None = None,
) -> BinaryIO:
    """Wrap a stored part stream in a buffered, verifying, decompressing, bounded reader."""
    raw = VerifiedPartReader(stored, size=size, sha256=sha256, describe=describe,
                             raw_size=raw_size)
    return io.BufferedReader(raw, buffer_size=CHUNK)  # type: ignore[return-value]
