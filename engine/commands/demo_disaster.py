"""The demo's disaster: a day of backups and copies, the monthly site drill rehearsing
the loss of the primary at the DR site, the primary site lost, the estate rebuilt at the
DR site with `drydock recover`, and a drill-style check that the data is there.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import typer

from engine.clock import now as clock_now
from engine.commands.demo_evidence import drill_run_lines, post_change_lines
from engine.commands.demo_steps import Run, banner
from engine.spec.loader import LoadedSpec
from engine.wiring import demo_world

CHECK_SQL = "SELECT count(*) FROM am_api"
DRILL_FILE = "site-drill.local.yaml"
SITE_DRILL = f"""\
# Written by `drydock demo` for its disaster chapter (removed at its end).
drills:
  site-dr:
    site: dr
    every: 30d
    rto: 1h
    into: {{root: .rehearsal}}
    verify: [{{sql: "{CHECK_SQL}", expect: ">= 1"}}]
"""


@contextmanager
def _clock_at(value: str) -> Iterator[None]:
    """Run the enclosed commands with DRYDOCK_NOW set (the demo's simulated time)."""
    before = os.environ.get("DRYDOCK_NOW")
    os.environ["DRYDOCK_NOW"] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DRYDOCK_NOW", None)
        else:
            os.environ["DRYDOCK_NOW"] = before


def _site_root(spec: LoadedSpec, site: str) -> Path:
    roots = {spec.path(h.root) for h in spec.env.hosts.values() if h.site == site}
    if len(roots) != 1:
        raise ValueError(f"the demo expects one host root at site {site!r}, found {len(roots)}")
    return roots.pop()


def _last_time(spec: LoadedSpec) -> datetime:
    """The later of now and the last apply's time (the story may have simulated days)."""
    from engine.workspace import open_state

    state, _journal = open_state(spec)
    applied = state.read().applied
    now = clock_now()
    return max(now, applied.when) if applied is not None else now


def _left_at(folder: Path) -> str:
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    return ", ".join(names) or "nothing"


def _rehearse(where: str, spec: LoadedSpec, run: Run, when: datetime) -> None:
    """Declare the site drill, pause the primary's gateways, plan and apply it."""
    primary, dr = _site_root(spec, "primary"), _site_root(spec, "dr")
    banner("Disaster 2/5. The monthly site drill rehearses losing the primary at the DR "
           "site: every gateway rebuilt into a scratch root and health-checked, the "
           "database restored into a scratch twin and checked, one RTO, all torn down")
    (spec.directory / DRILL_FILE).write_text(SITE_DRILL, encoding="utf-8")
    print(f"  declared drills.site-dr ({DRILL_FILE}); both sites share this machine and its "
          "ports, so the primary's gateways pause for the rehearsal")
    demo_world().stop_servers_under(spec, primary)
    with _clock_at(when.isoformat()):
        run(["plan", where], 0)
        run(["apply", where, "--auto-approve"], 0)
    print("  the rehearsal as the state records it:")
    print("\n".join(drill_run_lines(spec, "site-dr")))
    scratch = dr / ".rehearsal"
    print(f"  left at the DR site after the rehearsal: {_left_at(dr)}"
          + (f" (and {scratch.name}: NOT torn down)" if scratch.exists() else
             " (the scratch roots under .rehearsal are gone)"))


def run_disaster(where: str, spec: LoadedSpec, run: Run) -> None:
    """After the main story: back up and copy a day later, rehearse the recovery with a
    site drill, lose the primary site, recover at the DR site, check the recovered data,
    and stop the recovered servers.

    Takes the environment folder, its loaded spec and the demo's `run(args, expect)`.
    Removes only the primary site's folder of the demo world, and the site drill's
    declaration it wrote.
    """
    mapping = spec.env.recover["dr"]
    primary, dr = _site_root(spec, "primary"), _site_root(spec, "dr")
    world = spec.path(str(spec.env.vars.get("world", ".drydock/world")))
    if world.resolve() not in primary.resolve().parents:
        raise ValueError(f"refusing to remove {primary}: not inside the demo world {world}")
    lost_db = next(iter(mapping.databases))
    before = demo_world().count_rows(spec, lost_db, CHECK_SQL)
    day = _last_time(spec) + timedelta(days=1)
    try:
        banner("Disaster 1/5. A day later the nightly run takes fresh snapshots (the "
               "gateways' as they run since their last change) and copies them to the DR "
               "site")
        with _clock_at(day.isoformat()):
            run(["apply", where, "--auto-approve"], 0)
            run(["backups", "list", "--env", where], 0)
        print("  each gateway's series at the DR site holds a snapshot taken right after its "
              "change was applied (a `-post-` id), not only before it:")
        print("\n".join(post_change_lines(spec, "dr-vault")))
        print("  and beside them, content-addressed, every archive those homes were built "
              "from, so a rebuild at the DR site never reads the primary's folders:")
        run(["backups", "artifacts", "--env", where, "--repository", "dr-vault"], 0)
        _rehearse(where, spec, run, day + timedelta(hours=1))
        banner("Disaster 3/5. The primary site is lost: its servers, its database and its "
               "backup repository")
        stopped = ", ".join(demo_world().stop_servers_under(spec, primary)) or "no servers"
        print(f"  stopped {stopped}; removing {primary}")
        shutil.rmtree(primary)
        banner("Disaster 4/5. Recover at the DR site from its own repository alone: the "
               "plan, then the rebuild, with RPO and RTO")
        with _clock_at((day + timedelta(hours=2)).isoformat()):
            run(["recover", "--site", "dr", "--env", where, "--auto-approve"], 0)
        replacement = mapping.databases[lost_db]
        after = demo_world().count_rows(spec, replacement, CHECK_SQL)
        banner(f"Disaster 5/5. A drill-style check on the recovered database {replacement}")
        print(f"  {CHECK_SQL} → {after} (was {before} on {lost_db} before the disaster)")
        if after != before:
            print("error: the recovered database does not hold the data", file=sys.stderr)
            raise typer.Exit(1)
        print("  in a real estate: 'drydock recover --site dr --write-spec' then rewrites the "
              "spec for the new placement (a pull request), and 'drydock recover --site "
              "primary' plans the way back once the primary is rebuilt")
    finally:
        (spec.directory / DRILL_FILE).unlink(missing_ok=True)
        stopped = demo_world().stop_servers_under(spec, dr)
        if stopped:
            print(f"  stopped the recovered servers: {', '.join(stopped)}")
