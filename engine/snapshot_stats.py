"""`backups stats`: counts and sizes per repository and series, from listings (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from engine.contracts.facts import SnapshotInfo


class SeriesStats(BaseModel):
    """One series in one repository."""

    model_config = ConfigDict(frozen=True)

    repository: str
    series: str
    snapshots: int
    parts: int
    stored_bytes: int
    raw_bytes: int
    oldest: str | None
    newest: str | None


class RepositoryStats(BaseModel):
    """Every series, and the totals."""

    model_config = ConfigDict(frozen=True)

    series: tuple[SeriesStats, ...]
    snapshots: int
    stored_bytes: int
    raw_bytes: int
    compression_ratio: float | None
    unreadable: tuple[str, ...] = ()


def snapshot_stats(listings: Mapping[str, Sequence[SnapshotInfo]],
                   unreadable: Sequence[str] = ()) -> RepositoryStats:
    """Stats of the listed snapshots, per (repository, series) in name order."""
    rows = []
    for repo in sorted(listings):
        by_series: dict[str, list[SnapshotInfo]] = {}
        for snap in listings[repo]:
            by_series.setdefault(snap.series, []).append(snap)
        for series, snaps in sorted(by_series.items()):
            times = sorted(s.created for s in snaps)
            rows.append(SeriesStats(
                repository=repo, series=series, snapshots=len(snaps),
                parts=sum(s.parts for s in snaps), stored_bytes=sum(s.size for s in snaps),
                raw_bytes=sum(s.raw_size for s in snaps), oldest=times[0].isoformat(),
                newest=times[-1].isoformat()))
    stored = sum(r.stored_bytes for r in rows)
    raw = sum(r.raw_bytes for r in rows)
    return RepositoryStats(series=tuple(rows), snapshots=sum(r.snapshots for r in rows),
                           stored_bytes=stored, raw_bytes=raw,
                           compression_ratio=round(raw / stored, 2) if stored and raw else None,
                           unreadable=tuple(unreadable))


def render_stats_text(stats: RepositoryStats) -> str:
    """A table of the series, then the totals."""
    out = [f"{'repository':<18} {'series':<20} {'snapshots':>9} {'stored':>12} {'raw':>12}  "
           "newest"]
    for r in stats.series:
        out.append(f"{r.repository:<18} {r.series:<20} {r.snapshots:>9} {r.stored_bytes:>12} "
                   f"{r.raw_bytes:>12}  {r.newest or '-'}")
    ratio = f", compression {stats.compression_ratio}x" if stats.compression_ratio else ""
    out.append(f"total: {stats.snapshots} snapshot(s), {stats.stored_bytes} bytes stored, "
               f"{stats.raw_bytes} bytes before compression{ratio}")
    out += [f"warning: {u}" for u in stats.unreadable]
    return "\n".join(out) + "\n"
