"""A repository in an S3 bucket: ``<prefix>/<series>/<snapshot-id>/<part>.zst``, streamed.

Parts go up as multipart uploads of bounded parts (never a whole data part in memory),
reads stream the object body, and ``manifest.json`` is written last with a create-only
put, so a snapshot without one is invisible. boto3 is imported on first use; credentials
come from the environment or boto3's usual chain, never from the spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from providers.repositories.base import Repository
from providers.repositories.errors import RepositoryError
from providers.repositories.manifest import MANIFEST_NAME
from providers.repositories.ownership import (
    ARTIFACTS_DIR,
    REPOSITORY_MARKER,
    WRITING_MARKER,
    check_marker,
    foreign,
    is_own_file,
    is_snapshot_name,
    repository_marker,
)
from providers.repositories.s3_transfer import (
    DEFAULT_PART_SIZE,
    MIN_PART_SIZE,
    Failure,
    MultipartWriter,
    ObjectReader,
)

__all__ = ["S3Repository"]

_MISSING = {"NoSuchKey", "404", "NotFound"}
_EXISTS = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


class S3Repository(Repository):
    """Snapshots as objects under `prefix` in `bucket`, in `region` (or at `endpoint_url`).

    `part_size` (at least 5 MiB) and `upload_threads` bound the memory an upload uses.

    >>> repo = S3Repository("dr-vault", "acme-backups", "drydock", "eu-west-1")  # doctest: +SKIP
    """

    def __init__(self, name: str, bucket: str, prefix: str, region: str,
                 endpoint_url: str | None = None, *, part_size: int = DEFAULT_PART_SIZE,
                 upload_threads: int = 4) -> None:
        super().__init__(name)
        if part_size < MIN_PART_SIZE:
            raise RepositoryError(f"repository {name}: part size {part_size} is below S3's "
                                  f"minimum of {MIN_PART_SIZE} bytes")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.region = region
        self.endpoint_url = endpoint_url
        self.part_size = part_size
        self.upload_threads = max(1, upload_threads)
        self._client_obj: Any = None
        self._claimed = False
        self._readable = False  # checked for reading (unmarked but empty or adoptable)

    def __repr__(self) -> str:
        return f"S3Repository({self.name!r}, {self.location('')!r})"

    # ----- addressing and errors --------------------------------------------------------

    def _root(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def _snapshot_prefix(self, series: str, snapshot_id: str) -> str:
        return f"{self._root()}{series}/{snapshot_id}/"

    def object_key(self, series: str, snapshot_id: str, name: str) -> str:
        """The key of stored object `name` (``<part>.zst`` or ``manifest.json``)."""
        return self._snapshot_prefix(series, snapshot_id) + name

    def location(self, key: str) -> str:
        """``s3://bucket/key``, for messages."""
        return f"s3://{self.bucket}/{key}"

    def _endpoint(self) -> str:
        return self.endpoint_url or f"https://s3.{self.region}.amazonaws.com"

    def _client(self) -> Any:
        if self._client_obj is None:
            from providers.aws.clients import AwsEndpoint, make_client

            self._client_obj = make_client(
                "s3", AwsEndpoint(region=self.region, endpoint_url=self.endpoint_url),
                max_pool_connections=self.upload_threads + 4)
        return self._client_obj

    def _failure(self, key: str, operation: str) -> Failure:
        """A converter from botocore errors to one-line RepositoryErrors about `key`."""

        def convert(exc: Exception) -> RepositoryError:
            from botocore.exceptions import ClientError, NoCredentialsError

            where = f"repository {self.name}: {self.location(key)}"
            if isinstance(exc, ClientError):
                code = _error_code(exc)
                message = _one_line(exc.response.get("Error", {}).get("Message", ""))
                return RepositoryError(
                    f"{where}: S3 refused {operation} ({code}: {message}); check the bucket "
                    f"exists in region {self.region} and the credentials may use it")
            if isinstance(exc, NoCredentialsError):
                return RepositoryError(
                    f"{where}: no AWS credentials for {operation}; set AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, a profile or an instance role")
            return RepositoryError(
                f"{where}: cannot reach S3 endpoint {self._endpoint()} for {operation} "
                f"({_one_line(str(exc))}); check endpoint_url, the network and the region")

        return convert

    @contextmanager
    def _calling(self, key: str, operation: str) -> Iterator[None]:
        """Turn botocore errors inside the block into RepositoryError about `key`."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except (BotoCoreError, ClientError) as exc:
            raise self._failure(key, operation)(exc) from exc

    # ----- storage primitives -----------------------------------------------------------

    @contextmanager
    def _writer(self, series: str, snapshot_id: str, name: str) -> Iterator[BinaryIO]:
        key = self.object_key(series, snapshot_id, name)
        sink = MultipartWriter(self._client(), self.bucket, key, part_size=self.part_size,
                                threads=self.upload_threads, fail=self._failure(key, "upload"))
        try:
            yield sink  # type: ignore[misc]
            sink.commit()
        except BaseException:
            sink.abort()
            raise

    def _reader(self, series: str, snapshot_id: str, name: str) -> BinaryIO:

        return self._reader_of(self.object_key(series, snapshot_id, name))

    def _reader_of(self, key: str) -> BinaryIO:
        from botocore.exceptions import BotoCoreError, ClientError

        fail = self._failure(key, "read")
        try:
            response = self._client().get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                raise FileNotFoundError(self.location(key)) from None
            raise fail(exc) from exc
        except BotoCoreError as exc:
            raise fail(exc) from exc
        return ObjectReader(response["Body"], fail)  # type: ignore[return-value]

    def _load_manifest(self, series: str, snapshot_id: str) -> bytes | None:
        try:
            with self._reader(series, snapshot_id, MANIFEST_NAME) as stream:
                return stream.read()
        except FileNotFoundError:
            return None

    def _save_manifest(self, series: str, snapshot_id: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = self.object_key(series, snapshot_id, MANIFEST_NAME)
        try:
            self._client().put_object(Bucket=self.bucket, Key=key, Body=data,
                                      ContentType="application/json", IfNoneMatch="*")
        except ClientError as exc:
            if _error_code(exc) in _EXISTS:
                raise RepositoryError(
                    f"{self._where(series, snapshot_id)}: already exists (written by another "
                    "run at the same time); list the repository again") from None
            raise self._failure(key, "manifest write")(exc) from exc
        except BotoCoreError as exc:
            raise self._failure(key, "manifest write")(exc) from exc

    def _remove_manifest(self, series: str, snapshot_id: str) -> None:
        key = self.object_key(series, snapshot_id, MANIFEST_NAME)
        with self._calling(key, "delete"):
            self._client().delete_object(Bucket=self.bucket, Key=key)

    def _claim(self, *, create: bool) -> None:
        """Accept a marked prefix, an empty one, or one holding only snapshot objects."""
        if self._claimed or (self._readable and not create):
            return
        key = self._root() + REPOSITORY_MARKER
        where = self.location(self._root())
        try:
            with self._reader_of(key) as stream:
                data: bytes | None = stream.read()
        except FileNotFoundError:
            data = None
        if data is not None:
            check_marker(data, name=self.name, where=where)
            self._claimed = True
            return
        with self._calling(self._root(), "list"):
            pages = self._client().get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._root())
            items = [item for page in pages for item in page.get("Contents", [])]
        for item in items:
            if item["Key"] == key:
                continue  # a concurrent first use has just marked it
            parsed = self._parse(item["Key"])
            if parsed is None or not is_own_file(parsed[2]):
                raise foreign(self.name, where, item["Key"][len(self._root()):])
        self._readable = True
        if create:
            with self._calling(key, "upload"):
                self._client().put_object(Bucket=self.bucket, Key=key,
                                          Body=repository_marker(self.name))
            self._claimed = True

    def _remove_object(self, series: str, snapshot_id: str, name: str) -> None:
        key = self.object_key(series, snapshot_id, name)
        with self._calling(key, "delete"):
            self._client().delete_object(Bucket=self.bucket, Key=key)

    def _remove_data(self, series: str, snapshot_id: str) -> None:
        """Delete the objects drydock writes under a snapshot's prefix (nothing else)."""
        prefix = self._snapshot_prefix(series, snapshot_id)
        keys = [key for key, _modified in self._objects(prefix)
                if (parsed := self._parse(key)) is not None and is_own_file(parsed[2])]
        keys.sort(key=lambda k: k.endswith(WRITING_MARKER))  # the marker goes last
        client = self._client()
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            with self._calling(prefix, "delete"):
                response = client.delete_objects(Bucket=self.bucket,
                                                 Delete={"Objects": batch, "Quiet": True})
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise RepositoryError(
                    f"repository {self.name}: {self.location(first.get('Key', prefix))}: S3 "
                    f"refused delete ({first.get('Code')}: {_one_line(first.get('Message', ''))})"
                    "; check the credentials may delete objects")
        for key, upload_id, _initiated in self._uploads(prefix):
            self._abort_upload(key, upload_id)

    def _manifest_keys(self, series: str | None) -> Iterator[tuple[str, str]]:
        start = self._root() + (f"{series}/" if series is not None else "")
        for key, _modified in self._objects(start):
            parsed = self._parse(key)
            if parsed is None or parsed[2] != MANIFEST_NAME:
                continue
            if series is None and parsed[0] == ARTIFACTS_DIR:
                continue  # replicated artifacts, not snapshots
            yield parsed[0], parsed[1]

    def _unfinished(self, series: str | None) -> Iterator[tuple[str, str, datetime]]:
        newest: dict[tuple[str, str], datetime] = {}
        complete: set[tuple[str, str]] = set()
        begun: set[tuple[str, str]] = set()
        start = self._root() + (f"{series}/" if series is not None else "")
        found = [(key, modified) for key, modified in self._objects(start)]
        found += [(key, initiated) for key, _id, initiated in self._uploads(start)]
        for key, when in found:
            parsed = self._parse(key)
            if parsed is None:
                continue
            snapshot = (parsed[0], parsed[1])
            if parsed[2] == MANIFEST_NAME:
                complete.add(snapshot)
            if parsed[2] == WRITING_MARKER:
                begun.add(snapshot)
            newest[snapshot] = max(when, newest.get(snapshot, when))
        for (key_series, snapshot_id), when in sorted(newest.items()):
            if (key_series, snapshot_id) in begun - complete:
                yield key_series, snapshot_id, when

    def cleanup_incomplete(self, *, now: datetime, grace: timedelta) -> list[str]:
        """Remove manifest-less leftovers as the base does, then abort every multipart
        upload under the prefix started at least `grace` ago (say, of a killed copy of a
        snapshot that a later run completed). Returns the removed ``series/id`` names.
        """
        removed = super().cleanup_incomplete(now=now, grace=grace)
        for key, upload_id, initiated in self._uploads(self._root()):
            parsed = self._parse(key)
            if parsed is None or now - initiated < grace or not is_own_file(parsed[2]):
                continue
            if self._load_manifest(parsed[0], parsed[1]) is not None:
                self._abort_upload(key, upload_id)  # a killed copy of a finished snapshot
        return removed

    # ----- listing helpers --------------------------------------------------------------

    def _parse(self, key: str) -> tuple[str, str, str] | None:
        """(series, id, name) of a key in the snapshot layout (or of a replicated artifact:
        (``.drydock-artifacts``, sha256, name)), None for anything else."""
        root = self._root()
        if not key.startswith(root):
            return None
        pieces = key[len(root):].split("/")
        if len(pieces) != 3 or not is_snapshot_name(pieces[1]):
            return None
        if pieces[0] != ARTIFACTS_DIR and not is_snapshot_name(pieces[0]):
            return None
        return pieces[0], pieces[1], pieces[2]

    def _objects(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(key, last modified) of every object under `prefix`."""
        with self._calling(prefix, "list"):
            pages = self._client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]

    def _inventory(self) -> Iterator[tuple[str, str, str, int]]:
        prefix = self._root()
        with self._calling(prefix, "list"):
            pages = self._client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    parsed = self._parse(item["Key"])
                    if parsed is not None and parsed[0] != ARTIFACTS_DIR:  # not snapshots
                        yield parsed[0], parsed[1], parsed[2], int(item["Size"])

    def _uploads(self, prefix: str) -> Iterator[tuple[str, str, datetime]]:
        """(key, upload id, initiated) of every unfinished multipart upload under `prefix`."""
        with self._calling(prefix, "list uploads"):
            pages = self._client().get_paginator("list_multipart_uploads")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Uploads", []):
                    yield item["Key"], item["UploadId"], item["Initiated"]

    def _abort_upload(self, key: str, upload_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client().abort_multipart_upload(Bucket=self.bucket, Key=key,
                                                  UploadId=upload_id)
        except ClientError as exc:
            if _error_code(exc) != "NoSuchUpload":
                raise self._failure(key, "abort upload")(exc) from exc
        except BotoCoreError as exc:
            raise self._failure(key, "abort upload")(exc) from exc


def _error_code(err: Any) -> str:
    code = err.response.get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "unknown"))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
