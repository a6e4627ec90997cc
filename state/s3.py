"""The S3 state backend: a blob store using S3 conditional writes, its lock and its wiring."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from state.blobstore import Blob, BlobStore
from state.errors import StateBackendError, StateConflictError
from state.lock import Clock
from state.manager import StateManager
from state.objectlock import ObjectLock

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}


class S3BlobStore(BlobStore):
    """Objects are S3 objects under `prefix` in `bucket`; the version token is the ETag.

    Creation uses ``IfNoneMatch="*"`` and replacement ``IfMatch=<etag>``, so S3 itself
    refuses a write that lost a race (412, or 409 for a concurrent conditional write);
    conditional deletes use ``IfMatch`` too. boto3 is imported on first use.
    """

    def __init__(
        self, bucket: str, prefix: str, region: str, endpoint_url: str | None = None
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix.strip("/")
        self._region = region
        self._endpoint_url = endpoint_url
        self._client_obj: Any = None

    def _client(self) -> Any:
        if self._client_obj is None:
            from providers.aws.clients import AwsEndpoint, make_client

            self._client_obj = make_client(
                "s3", AwsEndpoint(region=self._region, endpoint_url=self._endpoint_url))
        return self._client_obj

    def _full(self, key: str) -> str:
        return f"{self._prefix}/{key}" if self._prefix else key

    def location(self, key: str) -> str:
        """Return ``s3://bucket/prefix/key``."""
        return f"s3://{self._bucket}/{self._full(key)}"

    def _fail(self, err: Exception, key: str, operation: str) -> NoReturn:
        from botocore.exceptions import ClientError

        if isinstance(err, ClientError):
            code = _error_code(err)
            if code in _CONFLICT_CODES:
                raise StateConflictError(
                    f"{self.location(key)} changed since it was read ({code} on {operation}); "
                    "read it again and retry"
                ) from err
            message = err.response.get("Error", {}).get("Message", "")
            raise StateBackendError(
                f"S3 refused {operation} of {self.location(key)} ({code}: {message}); "
                f"check the bucket, region {self._region} and credentials"
            ) from err
        raise StateBackendError(
            f"cannot reach S3 for {operation} of {self.location(key)} ({err}); "
            "check the endpoint, network and credentials"
        ) from err

    def get(self, key: str) -> Blob | None:
        """Return the object's bytes and ETag, or None when there is no such object."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client().get_object(Bucket=self._bucket, Key=self._full(key))
            data = response["Body"].read()
        except ClientError as err:
            if _error_code(err) in {"NoSuchKey", "404"}:
                return None
            self._fail(err, key, "get")
        except BotoCoreError as err:
            self._fail(err, key, "get")
        return Blob(data=data, version=response["ETag"])

    def put(self, key: str, data: bytes, *, expect_version: str | None) -> str:
        """Write the object only if its ETag is `expect_version` (None: only if absent)."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._client()
        full = self._full(key)
        try:
            if expect_version is None:
                response = client.put_object(
                    Bucket=self._bucket, Key=full, Body=data, IfNoneMatch="*"
                )
            else:
                response = client.put_object(
                    Bucket=self._bucket, Key=full, Body=data, IfMatch=expect_version
                )
        except (ClientError, BotoCoreError) as err:
            self._fail(err, key, "put")
        return str(response["ETag"])

    def delete(self, key: str, *, expect_version: str | None = None) -> None:
        """Delete the object (only that version when `expect_version` is given)."""
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._client()
        full = self._full(key)
        try:
            if expect_version is None:
                client.delete_object(Bucket=self._bucket, Key=full)
            else:
                client.delete_object(Bucket=self._bucket, Key=full, IfMatch=expect_version)
        except (ClientError, BotoCoreError) as err:
            self._fail(err, key, "delete")

    def list(self, prefix: str) -> list[str]:
        """Return the keys (without the store prefix) starting with `prefix`, sorted."""
        from botocore.exceptions import BotoCoreError, ClientError

        strip = len(self._full(""))
        keys = []
        try:
            pages = self._client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self._bucket, Prefix=self._full(prefix)):
                keys.extend(item["Key"][strip:] for item in page.get("Contents", []))
        except (ClientError, BotoCoreError) as err:
            self._fail(err, prefix, "list")
        return sorted(keys)


def _error_code(err: ClientError) -> str:
    code = err.response.get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "unknown"))


class S3Lock(ObjectLock):
    """The lock object ``<state key>.lock``, created with ``IfNoneMatch="*"``."""

    def __init__(self, store: S3BlobStore, state_key: str, *, clock: Clock | None = None) -> None:
        super().__init__(
            store, state_key + ".lock", state_label=store.location(state_key), clock=clock
        )


def open_s3_state(
    bucket: str,
    key: str,
    region: str,
    *,
    environment: str,
    endpoint_url: str | None = None,
    keep_versions: int = 20,
    clock: Clock | None = None,
) -> StateManager:
    """Return the manager of the state object `key` in `bucket` (history and lock beside it).

    History goes to ``<key>.history/<serial>.json``, the lock object is ``<key>.lock``.
    """
    store = S3BlobStore(bucket, "", region, endpoint_url)
    return StateManager(
        store,
        S3Lock(store, key, clock=clock),
        key=key,
        environment=environment,
        keep_versions=keep_versions,
    )
