"""AMIs of one region as a drydock snapshot store: list, create, copy, verify, delete.

An AMI belongs to a series through its tags (see `providers.aws.ec2_model`), so the
catalog is rebuilt from EC2 alone; only ``available`` images are listed. Creating and
copying are idempotent: the image name is derived from series and id, so an image that
exists already is waited for and returned. Creating takes no reboot unless the policy
says `reboot: true`. Deleting deregisters the image and deletes its EBS snapshots (those
of its block devices and any left tagged with its series and id). Waits use boto3's
``image_available`` waiter, bounded by `AwsWait`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from providers.aws.clients import error_code
from providers.aws.ec2_model import Ami, image_name, parse_image
from providers.aws.store_base import AwsStore
from providers.aws.tagging import TAG_ID, TAG_SERIES, drydock_tags, tag_list
from providers.aws.waiting import Progress, WaitFailures, quiet
from providers.repositories.errors import RepositoryError, SnapshotNotFound
from providers.repositories.manifest import SnapshotFields

_GONE = {"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidSnapshot.NotFound"}
_NO_INSTANCE = frozenset({"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"})


class AmiStore(AwsStore):
    """The drydock AMIs of `region`; `kms_key_id` encrypts the copies made into it."""

    service: ClassVar[str] = "ec2"
    things: ClassVar[str] = "AMIs"
    waiter: ClassVar[str] = "image_available"
    duplicate: ClassVar[frozenset[str]] = frozenset({"InvalidAMIName.Duplicate"})
    failures: ClassVar[WaitFailures] = WaitFailures(
        label="EC2", things="images", gone=frozenset(_GONE), missing=SnapshotNotFound,
        error=RepositoryError, advice="the image failed, deregister it and apply again")

    def _where(self, series: str, snapshot_id: str) -> str:
        return (f"repository {self.name}: snapshot {series}/{snapshot_id} (AMI "
                f"{image_name(series, snapshot_id)} in {self.region})")

    # ----- reading ----------------------------------------------------------------------

    def _images(self, filters: list[dict[str, Any]]) -> list[Ami]:
        found: list[Ami] = []
        pages = self._client().get_paginator("describe_images")
        for page in pages.paginate(Owners=["self"], Filters=filters):
            for item in page.get("Images", []):
                image = parse_image(item, self.region)
                if image is not None:
                    found.append(image)
        return found

    def snapshots(self, series: str | None = None) -> list[Ami]:
        """Available drydock AMIs here (of `series` if given), oldest first."""
        filters = [{"Name": "tag-key", "Values": [TAG_SERIES]},
                   {"Name": "state", "Values": ["available"]}]
        if series is not None:
            filters.append({"Name": f"tag:{TAG_SERIES}", "Values": [series]})
        with self._calling("list images"):
            found = [i for i in self._images(filters) if series is None or i.series == series]
        found.sort(key=lambda i: (i.created, i.id))
        return found

    def every_item(self) -> list[Ami]:
        """Every drydock AMI here in any state, oldest first."""
        with self._calling("list images"):
            found = self._images([{"Name": "tag-key", "Values": [TAG_SERIES]}])
        found.sort(key=lambda i: (i.created, i.id))
        return found

    def item_problems(self, item: Ami) -> list[str]:
        """The EBS snapshots behind the AMI that are gone or failed."""
        from botocore.exceptions import ClientError

        problems = []
        for snapshot in item.snapshot_ids:
            with self._calling("describe the image's snapshots", item.label):
                pages = self._client().get_paginator("describe_snapshots")
                try:
                    states = [s.get("State") for page in pages.paginate(SnapshotIds=[snapshot])
                              for s in page.get("Snapshots", [])]
                except ClientError as exc:
                    if error_code(exc) not in _GONE:
                        raise
                    states = []
            if not states:
                problems.append(f"its EBS snapshot {snapshot} is gone; the image cannot be "
                                "launched: delete it and take another")
            elif states[0] == "error":
                problems.append(f"its EBS snapshot {snapshot} failed (state error)")
        return problems

    def find(self, series: str, snapshot_id: str) -> Ami | None:
        """The AMI of `series`/`snapshot_id` in any state, or None when there is none.

        Raises RepositoryError when its name is taken by an image without drydock's tags
        for it (someone else's, or an interrupted run's: see `create`).
        """
        name = image_name(series, snapshot_id)
        where = self._where(series, snapshot_id)
        with self._calling("describe image", where):
            pages = self._client().get_paginator("describe_images")
            items = [item for page in pages.paginate(
                Owners=["self"], Filters=[{"Name": "name", "Values": [name]}])
                for item in page.get("Images", [])]
        if not items:
            return None
        image = parse_image(items[0], self.region)
        if image is None or (image.series, image.id) != (series, snapshot_id):
            raise RepositoryError(f"{where}: name {name} is taken by image "
                                  f"{items[0].get('ImageId')} without drydock's tags for it; "
                                  "deregister or rename that image")
        return image

    # ----- changing ---------------------------------------------------------------------

    def create(self, series: str, snapshot_id: str, *, instance_id: str, reboot: bool,
               fields: SnapshotFields, progress: Progress = quiet) -> tuple[Ami, bool]:
        """Make an AMI of `instance_id` as `series`/`snapshot_id` and wait for it.

        Takes the series, id, instance, whether EC2 may reboot the instance for a
        consistent file system (default: no), the fields drydock records and a progress
        callback. Returns the available image and whether this call created it. Raises
        RepositoryError (instance missing, EC2 refused, waited too long).
        """
        where = self._where(series, snapshot_id)
        tags = drydock_tags(series, snapshot_id, created=fields.created,
                            source=fields.source.address, tags=fields.tags)

        def start() -> bool:
            return self._start(
                where, f"create image of instance {instance_id}",
                lambda: self._client().create_image(
                    InstanceId=instance_id, Name=image_name(series, snapshot_id),
                    Description=f"drydock {series}/{snapshot_id}", NoReboot=not reboot,
                    TagSpecifications=[{"ResourceType": "image", "Tags": tag_list(tags)}]),
                missing=_NO_INSTANCE,
                missing_text=f"EC2 instance {instance_id!r} not found in region {self.region}"
                             f" at {self.endpoint.url('ec2')}; check the host's "
                             "aws.instance_id and region")

        started = f"started from instance {instance_id}" + (
            " (with a reboot)" if reboot else " (no reboot)")
        image, made = self._create_with(series, snapshot_id, start, started, progress)
        self._tag_snapshots(image, tags, where)
        return image, made

    def copy_from(self, other: AmiStore, series: str, snapshot_id: str, *,
                  progress: Progress = quiet) -> tuple[Ami, bool]:
        """Copy an available AMI from `other` (another region) here, and wait for it.

        The copy gets the source's drydock tags, so it is listed under the same series
        and id; with this store's `kms_key_id` it is encrypted with that key. Returns the
        available copy and whether this call made it. Raises SnapshotNotFound (not
        available in `other`) or RepositoryError.
        """
        where = self._where(series, snapshot_id)

        def start(source: Ami) -> bool:
            request: dict[str, Any] = {
                "SourceImageId": source.image_id, "SourceRegion": other.region,
                "Name": image_name(series, snapshot_id),
                "Description": f"drydock {series}/{snapshot_id} from {other.region}"}
            if self.kms_key_id is not None:
                request.update(Encrypted=True, KmsKeyId=self.kms_key_id)

            def copy() -> None:
                copied = self._client().copy_image(**request)["ImageId"]
                # tags are not copied by EC2: the copy is a member of the series once tagged
                self._client().create_tags(Resources=[copied], Tags=source.copy_tags())

            return self._start(where, f"copy image {source.image_id} from {other.region}",
                               copy)

        image, made = self._copy_with(other, series, snapshot_id, start, progress)
        self._tag_snapshots(image, dict(image.tag_list), where)
        return image, made

    def _tag_snapshots(self, image: Ami, tags: dict[str, str], where: str) -> None:
        """Give the image's EBS snapshots its drydock tags (so deletes find them later)."""
        if image.snapshot_ids:
            with self._calling("tag the image's snapshots", where):
                self._client().create_tags(Resources=list(image.snapshot_ids),
                                           Tags=tag_list(tags))

    def delete(self, series: str, snapshot_id: str, *, missing_ok: bool = False) -> None:
        """Deregister the AMI, then delete its EBS snapshots; SnapshotNotFound when
        nothing of it is left, unless `missing_ok`."""
        from botocore.exceptions import ClientError

        where = self._where(series, snapshot_id)
        image = self.find(series, snapshot_id)
        snapshots = set(image.snapshot_ids if image else ()) | set(
            self._tagged_snapshots(series, snapshot_id, where))
        if image is None and not snapshots:
            if missing_ok:
                return
            raise SnapshotNotFound(f"{where}: not found")
        with self._calling("deregister image", where):
            if image is not None:
                try:
                    self._client().deregister_image(ImageId=image.image_id)
                except ClientError as exc:
                    if error_code(exc) not in _GONE:
                        raise
            for snapshot in sorted(snapshots):
                try:
                    self._client().delete_snapshot(SnapshotId=snapshot)
                except ClientError as exc:
                    if error_code(exc) not in _GONE:
                        raise

    def _tagged_snapshots(self, series: str, snapshot_id: str, where: str) -> list[str]:
        with self._calling("list the image's snapshots", where):
            pages = self._client().get_paginator("describe_snapshots")
            return [s["SnapshotId"] for page in pages.paginate(
                OwnerIds=["self"], Filters=[{"Name": f"tag:{TAG_SERIES}", "Values": [series]},
                                            {"Name": f"tag:{TAG_ID}", "Values": [snapshot_id]}])
                for s in page.get("Snapshots", [])]

    # ----- waiting ----------------------------------------------------------------------

    def _waiter_args(self, series: str, snapshot_id: str) -> dict[str, Any]:
        image = self.find(series, snapshot_id)
        if image is None:
            raise SnapshotNotFound(f"{self._where(series, snapshot_id)}: not found after "
                                   "asking EC2 for it")
        return {"ImageIds": [image.image_id]}

    @staticmethod
    def _pending(response: Any) -> str:
        return _image_state(response)

    @staticmethod
    def _state(response: Any) -> str:
        return f"state {_image_state(response)}"


def _image_state(response: Any) -> str:
    items = (response or {}).get("Images") or [{}]
    return str(items[0].get("State", "unknown"))

