"""Manifest JSON format, snapshot ids and name checks."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from providers.repositories.manifest import (
    Manifest,
    ManifestError,
    PartInfo,
    SnapshotFields,
    SnapshotSource,
    check_name,
    new_snapshot_id,
)

CREATED = datetime(2026, 11, 25, 17, 2, 33, tzinfo=timezone(timedelta(hours=-3)))


def manifest() -> Manifest:
    return Manifest(
        series="gw-1-runtime",
        id="20261125T200233Z-3f9a1c",
        source=SnapshotSource(kind="server", address="server.gw-1", engine=None,
                              facts={"update_level": 14, "patches": ["WSO2-CARBON-PATCH-0005"]}),
        created=CREATED,
        parts=(PartInfo(name="paths.tar", kind="tar", size=10, raw_size=20, sha256="a" * 64),),
        tool_version="0.1.0",
        tags=("before-update",),
    )


def test_manifest_round_trips_through_json_keeping_the_utc_offset():
    data = manifest().to_json()
    doc = json.loads(data)
    assert doc["format"] == 1
    assert doc["created"] == "2026-11-25T17:02:33-03:00"
    assert doc["parts"][0] == {"name": "paths.tar", "kind": "tar", "compression": "zstd",
                               "size": 10, "raw_size": 20, "sha256": "a" * 64}
    back = Manifest.from_json(data, where="x/manifest.json")
    assert back == manifest()
    assert back.created.utcoffset() == timedelta(hours=-3)
    assert back.size == 10


def test_bad_manifest_json_names_the_file_and_the_field():
    doc = json.loads(manifest().to_json())
    doc["created"] = "2026-11-25T17:02:33"
    with pytest.raises(ManifestError, match=r"^vault/x/manifest.json: invalid manifest at created"):
        Manifest.from_json(json.dumps(doc).encode(), where="vault/x/manifest.json")
    with pytest.raises(ManifestError, match="invalid manifest"):
        Manifest.from_json(b"{not json", where="vault/x/manifest.json")


def test_snapshot_ids_are_utc_stamped_sortable_and_unique():
    local = datetime(2026, 11, 25, 22, 32, 33, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    first = new_snapshot_id(local)
    assert re.fullmatch(r"20261125T170233Z-[0-9a-f]{6}", first)
    ids = {new_snapshot_id(local) for _ in range(200)}
    assert len(ids) == 200
    assert new_snapshot_id(datetime(2026, 11, 25, 17, 2, 34, tzinfo=UTC)) > max(ids)
    with pytest.raises(ValueError, match="aware"):
        new_snapshot_id(datetime(2026, 1, 1))


@pytest.mark.parametrize("bad", ["", "..", "a/b", ".hidden", "a..b", "manifest.json", "x y"])
def test_names_that_are_not_one_safe_path_component_are_refused(bad):
    with pytest.raises(ManifestError, match="is not a valid name"):
        check_name(bad, what="series")


def test_a_tampered_manifest_cannot_name_parts_outside_its_snapshot():
    doc = json.loads(manifest().to_json())
    doc["parts"][0]["name"] = "../../../etc/passwd"
    with pytest.raises(ManifestError, match=r"at parts\.0\.name: .*is not a valid name"):
        Manifest.from_json(json.dumps(doc).encode(), where="vault/x/manifest.json")
    doc = json.loads(manifest().to_json())
    doc["series"] = ".."
    with pytest.raises(ManifestError, match="at series"):
        Manifest.from_json(json.dumps(doc).encode(), where="vault/x/manifest.json")


def test_a_new_manifest_carries_drydocks_own_version_as_drydock_version_prints_it(tmp_path):
    """The tool version comes from the installed `drydock-estate` distribution, the one
    `drydock --version` names, and a stored snapshot's manifest records it."""
    import subprocess
    import sys

    from engine import __version__
    from providers.repositories.local import LocalRepository
    from providers.repositories.manifest import tool_version

    assert tool_version() == __version__
    printed = subprocess.run([sys.executable, "-m", "engine", "--version"], capture_output=True,
                             text=True, check=True).stdout.splitlines()[0]
    assert printed == f"drydock {tool_version()}"
    repo = LocalRepository("vault", tmp_path / "vault")
    fields = SnapshotFields(source=SnapshotSource(kind="database", address="database.a"),
                            created=CREATED)
    made = repo.put("a-db", new_snapshot_id(CREATED), [], fields)
    stored = json.loads((tmp_path / "vault" / "a-db" / made.id / "manifest.json").read_text())
    assert stored["tool_version"] == __version__
