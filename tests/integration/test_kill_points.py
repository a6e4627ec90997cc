"""SIGKILL at every kill point of a full apply, then plan + apply converge.

The apply of a small estate that has every action kind (update levels, a patch, config,
a pack replacement, starts and health checks, a backup, its copy, prunes in two
repositories, a drill) is first run through once with `DRYDOCK_KILL_LOG`, which lists the
kill points it passes: every action's start and end and the steps inside long actions
(see engine/killpoints.py). Then, for each point, the baseline is put back, the apply is
killed there with SIGKILL (`DRYDOCK_KILL_AT`), and one more `apply` must bring the world
to what the uninterrupted apply left: `plan --detailed-exitcode` finds nothing to do, the
state's checksum holds, each repository keeps exactly today's verified snapshot and the
state lists exactly it, both servers run healthy at the new level with homes identical to
the reference, and no temp file, staging folder, in-progress marker or scratch target is
left. By default one point of each class is killed: the first of each action kind and
place (`stop:start`, `prune:inside:deleted-1`, `apply:save`, ...), so a second server's or
repository's copy of a point already killed is skipped. `DRYDOCK_KILL_SOAK=1`
(`make soak`) kills at every point and adds a runtime series and three more levels.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from engine.killpoints import KILL_AT, KILL_LOG
from tests.helpers.killworld import KillWorld, build

SOAK = os.environ.get("DRYDOCK_KILL_SOAK") == "1"


def point_class(point: str) -> str:
    """What a point is, without whose: `server.gw-2/stop:start` -> `stop:start`,
    `backup.apim-db/copy-<id>-to-dr-vault:end` -> `copy:end`; `apply:save` stays."""
    if "/" not in point:
        return point
    step, where = point.split("/", 1)[1].split(":", 1)
    return f"{step.split('-')[0]}:{where}"


def representatives(points: list[str]) -> list[str]:
    """The first point of each class, in the run's order."""
    first: dict[str, str] = {}
    for point in points:
        first.setdefault(point_class(point), point)
    return list(first.values())


def survive(world: KillWorld, point: str) -> list[str]:
    """Kill the apply at `point`, recover, and return what is wrong afterwards."""
    world.reset()
    killed = world.apply(env={KILL_AT: point})
    if killed.returncode != -signal.SIGKILL:
        return [f"the apply was not killed (exit {killed.returncode}): the point was not "
                f"reached\n{killed.stderr[-1500:]}"]
    again = world.apply()
    if again.returncode != 0:
        return [f"apply after the kill exited {again.returncode}:\n{again.stdout[-2500:]}\n"
                f"{again.stderr[-2500:]}"]
    plan = world.cli("plan", ".", "--detailed-exitcode")
    if plan.returncode != 0:
        return [f"plan after recovery exited {plan.returncode}:\n{plan.stdout[-2500:]}\n"
                f"{plan.stderr[-1500:]}"]
    return world.problems()


@pytest.mark.slow(100)
def test_the_apply_survives_sigkill_at_every_kill_point(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    world = build(tmp_path, soak=SOAK)
    try:
        log = tmp_path / "points.log"
        world.reset()
        full = world.apply(env={KILL_LOG: str(log)})
        assert full.returncode == 0, full.stdout[-2000:] + full.stderr[-2000:]
        world.reference = world.snapshot()
        points = log.read_text().splitlines()
        assert len(points) == len(set(points)), "kill point ids must be unique in a run"
        kinds = {p.split("/")[1].split(":")[0].split("-")[0] for p in points if "/" in p}
        assert {"create", "copy", "prune", "run", "verdict", "preflight", "backup", "stop",
                "update", "patch", "config", "replace", "start", "health"} <= kinds, kinds
        assert any(":inside:" in p for p in points)
        killed = points if SOAK else representatives(points)
        assert {point_class(p) for p in killed} == {point_class(p) for p in points}
        failures: dict[str, list[str]] = {}
        for point in killed:
            found = survive(world, point)
            if found:
                failures[point] = found
        survived = len(killed) - len(failures)
        with capsys.disabled():
            print(f"\nkill points: survived {survived} of {len(killed)} killed, one of each "
                  f"of their classes ({len(points)} points; {world.runs} drydock runs)")
        assert not failures, "\n".join(f"{p}:\n  " + "\n  ".join(f)
                                       for p, f in failures.items())
    finally:
        world.stop_servers()
