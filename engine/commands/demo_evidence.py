"""What the demo's disaster chapter shows an operator beyond the commands' own output:
the post-change snapshots each server series holds at the DR site (what ran after its
last change), and the site drill's last run as the state records it (RTO against the
target, checks, torn down)."""

from __future__ import annotations

from datetime import timedelta

from engine.commands.common import workspace
from engine.contracts.drills import drill_runs
from engine.spec.durations import format_duration
from engine.spec.loader import LoadedSpec


def _patches(facts: dict[str, object]) -> str:
    found = facts.get("patches")
    return ", ".join(found) if isinstance(found, list) and found else "none"


def post_change_lines(spec: LoadedSpec, repository: str) -> list[str]:
    """Per server runtime series, its newest post-change snapshot in `repository` (taken
    right after a change was applied: the level and patches that then ran), and the
    newest snapshot a recovery would use."""
    from engine.operations.restore import listings

    ws = workspace(str(spec.directory))
    found, unreadable = listings(ws, [repository])
    lines = [f"  ! {line}" for line in unreadable]
    snaps = found.get(repository, [])
    for name, policy in sorted(spec.env.backups.items()):
        if policy.source.server is None:
            continue
        mine = sorted((s for s in snaps if s.series == name), key=lambda s: (s.created, s.id))
        post = [s for s in mine if "-post-" in s.id]
        if not post:
            lines.append(f"  {name}: no post-change snapshot in {repository}")
            continue
        last, newest = post[-1], mine[-1]
        lines.append(f"  {name}: post-change snapshot {last.id} (after server."
                     f"{policy.source.server} changed: update level "
                     f"{last.facts.get('update_level')}, patches {_patches(last.facts)}, "
                     f"{len(last.facts.get('artifacts') or [])} replicated artifacts named)")
        if newest.id != last.id:
            lines.append(f"  {' ' * len(name)}  newest {newest.id} holds update level "
                         f"{newest.facts.get('update_level')}, patches "
                         f"{_patches(newest.facts)}: the one a recovery uses")
    return lines


def drill_run_lines(spec: LoadedSpec, drill: str) -> list[str]:
    """The last recorded run of `drill`: passed or not, its RTO against the target,
    its checks and whether everything it built was torn down."""
    ws = workspace(str(spec.directory))
    record = ws.state.read().resources.get(f"drill.{drill}")
    runs = drill_runs(record.data if record is not None else None)
    if not runs:
        return [f"  drill.{drill}: no run recorded"]
    run = runs[-1]
    target = format_duration(timedelta(seconds=run.rto_seconds))
    lines = [f"  drill.{drill}: {'passed' if run.passed else 'FAILED'}; RTO {run.seconds:.1f}s "
             f"against the {target} target ({'within' if run.within_rto else 'OVER'}); "
             f"torn down: {'yes' if run.torn_down else 'NO'}; rehearsed {run.snapshot} "
             f"from {run.repository}"]
    lines += [f"    {'✓' if c.passed else '✗'} {c.check}" for c in run.checks]
    return lines
