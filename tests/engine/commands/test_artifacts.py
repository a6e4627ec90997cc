"""`drydock backups artifacts`'s rows, data in and data out: one per repository and
digest the snapshots name, with what it brings and which series need it."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.commands.artifacts import artifact_rows
from engine.contracts.facts import SnapshotInfo

WHEN = datetime(2026, 5, 4, tzinfo=UTC)
PACK = {"kind": "pack", "name": "wso2am-4.2.0.zip", "sha256": "a" * 64, "size": 10,
        "update_level": -1}
UPDATE = {"kind": "update", "name": "U-0003.zip", "sha256": "b" * 64, "size": 3, "level": 3}
PATCH = {"kind": "patch", "name": "P-0001.zip", "sha256": "c" * 64, "size": 2,
         "patch_id": "WSO2-CARBON-PATCH-4.9.0-0001", "patch_dir": "patch0001"}


def snap(series: str, sid: str, repo: str, *refs: dict) -> SnapshotInfo:
    return SnapshotInfo(repository=repo, series=series, id=sid, created=WHEN, kind="server",
                        address=f"server.{series}", facts={"artifacts": list(refs)})


def test_one_row_per_repository_and_digest_counting_the_snapshots_naming_it() -> None:
    rows = artifact_rows([
        snap("gw-2-runtime", "s1", "dv", PATCH, UPDATE, PACK),
        snap("gw-1-runtime", "s2", "dv", PACK, UPDATE),
        snap("gw-1-runtime", "s2", "pv", PACK),
        SnapshotInfo(repository="dv", series="db", id="d", created=WHEN, kind="database",
                     address="database.db")])
    assert [(r["repository"], r["kind"], r["brings"], r["series"], r["snapshots"])
            for r in rows] == [
        ("dv", "pack", "base pack (no level)", ["gw-1-runtime", "gw-2-runtime"], 2),
        ("dv", "update", "level 3", ["gw-1-runtime", "gw-2-runtime"], 2),
        ("dv", "patch", "WSO2-CARBON-PATCH-4.9.0-0001", ["gw-2-runtime"], 1),
        ("pv", "pack", "base pack (no level)", ["gw-1-runtime"], 1)]
    assert rows[1]["sha256"] == "b" * 64 and rows[1]["name"] == "U-0003.zip"
