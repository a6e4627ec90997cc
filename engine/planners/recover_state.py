"""What a surviving state knows that the recovering site's snapshots do not (pure).

Recovery plans from the site's repositories alone, but when the state survived (an S3
backend, a copy kept elsewhere) it may record more: a server changed after its newest
snapshot at the site (another update level, other patches, other config bytes), or a
snapshot taken at the lost site that never reached this one. Each such difference is one
warning line naming the resource, what the state records and what the snapshot holds,
so the operator knows exactly what the rebuild will not bring back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.contracts.catalog import catalog_from_data
from engine.contracts.facts import SnapshotInfo
from engine.spec.durations import format_duration
from state.document import StateDocument


def _when(doc: StateDocument) -> str:
    if doc.applied is None:
        return f"(serial {doc.serial})"
    return (f"(serial {doc.serial}, last applied "
            f"{doc.applied.when.isoformat(timespec='seconds')})")


def _patches(value: Any) -> str:
    return ", ".join(sorted(value or [])) or "none"


def _server_differences(recorded: Mapping[str, Any], snap: SnapshotInfo,
                        digests: Mapping[str, str]) -> list[str]:
    facts = snap.facts
    diffs: list[str] = []
    level = recorded.get("update_level")
    if level is not None and "update_level" in facts and level != facts["update_level"]:
        diffs.append(f"update level {level} (the snapshot: {facts['update_level']})")
    if "patches" in recorded and "patches" in facts and \
            sorted(recorded["patches"] or []) != sorted(facts["patches"] or []):
        diffs.append(f"patches {_patches(recorded['patches'])} (the snapshot: "
                     f"{_patches(facts['patches'])})")
    for key in sorted(k for k in recorded if k.startswith("config:")):
        path = key.removeprefix("config:")
        held = digests.get(path)
        if recorded[key] and held and recorded[key] != held:
            diffs.append(f"{path} {str(recorded[key])[:19]} (the snapshot: {held[:19]})")
    return diffs


def _server_lines(doc: StateDocument, servers: Sequence[tuple[str, Sequence[str]]],
                  chosen: Mapping[str, SnapshotInfo],
                  digests: Mapping[str, Mapping[str, str]]) -> list[str]:
    out: list[str] = []
    for server, policies in servers:
        record = doc.resources.get(f"server.{server}")
        if record is None:
            continue
        snap = next((chosen[p] for p in policies if p in chosen), None)
        if snap is None:
            if record.attributes.get("update_level") is not None or \
                    record.attributes.get("patches"):
                out.append(f"server.{server}: the surviving state {_when(doc)} records update "
                           f"level {record.attributes.get('update_level')}, patches "
                           f"{_patches(record.attributes.get('patches'))}, but the site holds "
                           "no snapshot of its runtime; the rebuild follows the spec")
            continue
        diffs = _server_differences(record.attributes, snap, digests.get(snap.series, {}))
        if diffs:
            out.append(f"server.{server}: the surviving state {_when(doc)} records "
                       f"{'; '.join(diffs)} — newer than snapshot {snap.id} of {snap.series} "
                       f"in {snap.repository} (taken "
                       f"{snap.created.isoformat(timespec='seconds')}); the rebuild brings "
                       "back what the snapshot holds")
    return out


def _series_lines(doc: StateDocument, policies: Sequence[str], site: str,
                  repositories: Sequence[str], chosen: Mapping[str, SnapshotInfo]) -> list[str]:
    out: list[str] = []
    for policy in policies:
        record = doc.resources.get(f"backup.{policy}")
        if record is None:
            continue
        catalog = catalog_from_data(policy, record.data)
        entries = [e for es in catalog.repos.values() for e in es]
        if not entries:
            continue
        newest = max(entries, key=lambda e: (e.created, e.id))
        snap = chosen.get(policy)
        if snap is not None and (newest.created, newest.id) <= (snap.created, snap.id):
            continue
        held = catalog.copies_of(newest.id)
        here = [r for r in held if r in repositories]
        why = (f"it is recorded in {', '.join(here)} but did not verify or is gone" if here
               else f"it never reached {site} (recorded in {', '.join(held)})")
        than = "any snapshot" if snap is None else (
            f"{snap.id} by {format_duration(newest.created - snap.created)}"
            if newest.created > snap.created else snap.id)
        out.append(f"backup.{policy}: the surviving state {_when(doc)} records snapshot "
                   f"{newest.id} (taken {newest.created.isoformat(timespec='seconds')}), newer "
                   f"than {than} at {site}: {why}")
    return out


def newer_in_state(doc: StateDocument, *, site: str, repositories: Sequence[str],
                   servers: Sequence[tuple[str, Sequence[str]]], policies: Sequence[str],
                   chosen: Mapping[str, SnapshotInfo],
                   digests: Mapping[str, Mapping[str, str]]) -> list[str]:
    """One line per difference between what `doc` records and the snapshots `chosen` at
    `site` (read from `repositories`): for the series of `policies`, and for each of
    `servers` (name, its runtime policies). Empty for a fresh (lost) state."""
    return [*_series_lines(doc, policies, site, repositories, chosen),
            *_server_lines(doc, servers, chosen, digests)]
