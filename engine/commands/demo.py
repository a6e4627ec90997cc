"""`drydock demo`: build the local demo world and run the whole story, printing each step."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from engine.commands.common import guarded
from engine.commands.demo_steps import banner, run_step
from engine.spec.loader import load_spec


@guarded
def demo(
    env: Annotated[Path | None, typer.Argument(
        help="The demo environment folder (default: specs/demo in a checkout, "
             "./drydock-demo from an installed package).")] = None,
) -> None:
    """Build the demo world under the demo folder's .drydock and run the story.

    plan → apply (the gateways, wso2am 4.2.0 on Carbon kernel 4.9.0, rise from update
    level 10 to 14 with the kernel-named packages WUM ships, one at a time) → plan again
    (no changes; the update client's keys and Carbon's own patch folders kept) → a hand
    edit → drift finds it → apply restores it. Running it again starts from a fresh world;
    the demo's servers are stopped at the end. Installed from a wheel, the demo's spec is
    first copied to ./drydock-demo.
    """
    from engine.commands.common import fail
    from engine.commands.demo_source import demo_folder
    from engine.wiring import demo_world

    try:
        env = demo_folder(env, Path.cwd())
    except OSError as exc:
        fail(f"cannot set up the demo: {exc}")
    print(f"demo environment: {env}")

    # The demo's fake servers run on this interpreter (they need Python 3.11's tomllib).
    os.environ.setdefault("DRYDOCK_PYTHON", sys.executable)
    try:
        _story(env)
    finally:
        stopped = demo_world().stop_servers(load_spec(env))
        print(f"\nstopped the demo's servers: {', '.join(stopped) or 'none running'}")


def _story(env: Path) -> None:
    from engine.commands.demo_disaster import DRILL_FILE
    from engine.wiring import demo_world

    world = demo_world()
    (env / DRILL_FILE).unlink(missing_ok=True)  # left by an interrupted earlier run
    spec = load_spec(env)
    banner("Building the demo world (fresh every run)")
    for line in world.reset(spec):
        print(f"  built {line}")
    where = str(env)
    banner("1. What would drydock change? The gateways are at update level 10, the spec "
            "wants 14: each level's files, one gateway at a time")
    run_step(["plan", where], 0)
    banner("2. Apply it: gw-1 is updated and health-checked before gw-2 starts")
    run_step(["apply", where, "--auto-approve"], 0)
    banner("3. Plan again: nothing left to do (exit 0 with --detailed-exitcode)")
    run_step(["plan", where, "--detailed-exitcode"], 0)
    server = next(iter(spec.env.servers))
    s = spec.env.servers[server]
    home = spec.path(spec.env.hosts[s.host].root) / s.home
    print(f"  {server}'s home as the update client and Carbon keep it:")
    for line in world.describe_home(home):
        print(f"    {line}")
    target = home / "repository" / "conf" / "deployment.toml"
    banner(f"4. Someone edits {server}'s deployment.toml by hand")
    world.hand_edit(target, "create_admin_account = true", "create_admin_account = false")
    print(f"  edited {target}")
    banner("5. The nightly drift run catches exactly that file (exit 2)")
    run_step(["drift", where], 2)
    banner("6. Apply puts the declared file back")
    run_step(["apply", where, "--auto-approve"], 0)
    run_step(["plan", where, "--detailed-exitcode"], 0)
    _days_pass(where)
    from engine.commands.demo_disaster import run_disaster

    run_disaster(where, load_spec(Path(where)), run_step)
    banner("Demo complete")


def _days_pass(where: str) -> None:
    """Nightly applies over simulated days (DRYDOCK_NOW), then a plan that prunes."""
    from engine.clock import now

    start = now()
    banner("7. Days pass: each nightly apply takes the database backup that is due and "
            "copies it to the dr site")
    for day in range(1, 5):
        os.environ["DRYDOCK_NOW"] = (start + timedelta(days=day)).isoformat()
        run_step(["apply", where, "--auto-approve"], 0, quiet=True)
    os.environ["DRYDOCK_NOW"] = (start + timedelta(days=5)).isoformat()
    run_step(["backups", "list", "--env", where], 0)
    banner("8. Retention (keep last 3) shows every snapshot a prune deletes, with its rule")
    run_step(["plan", where], 0)
    run_step(["apply", where, "--auto-approve"], 0, quiet=True)
    run_step(["backups", "list", "--env", where], 0)
    del os.environ["DRYDOCK_NOW"]
