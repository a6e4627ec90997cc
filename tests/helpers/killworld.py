"""A small estate that exercises every action kind, killed with SIGKILL at kill points.

The world: `gw-1` updated in place (an update level, a patch added, its config rewritten),
`gw-2` replaced by an updated pack (a patch added, its config rewritten), both with
services and health checks in one rollout group; a SQLite database backed up into one
repository, copied to another, pruned in both, and drilled from the copy. The baseline
(the first apply, then the spec moved on by two days and one level) is kept aside and
put back before every killed run, in place, so every run sees the same absolute paths.
`soak=True` adds a server's runtime series, four levels instead of one, and applies four
actions at a time.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from providers.repositories.local import LocalRepository
from state.document import StateDocument, from_bytes
from tests.helpers.servers import (
    CHILD_ENV,
    Estate,
    Gateway,
    home_at_level,
    level_pack,
    make_estate,
    server_status,
    stop_home,
    tree,
)
from tests.helpers.world import seed_apis
from tests.helpers.zygote import cli

BEFORE = "2026-02-01T03:00:00Z"
AT = "2026-02-03T03:00:00Z"
REPOSITORIES = ("primary-vault", "dr-vault")
DATA = """\
databases:
  apim_db: {engine: sqlite, path: "{{ world }}/primary/apim.db", site: primary}
repositories:
  primary-vault: {site: primary, type: local, path: "{{ world }}/primary/backups"}
  dr-vault: {site: dr, type: local, path: "{{ world }}/dr/backups"}
backups:
  apim-db:
    source: {database: apim_db}
    every: 24h
    keep: {last: 1}
    repository: primary-vault
    copies: [dr-vault]
drills:
  apim-db-restore:
    backup: apim-db
    from: dr-vault
    every: 1d
    into: {database: {engine: sqlite, path: "{{ world }}/scratch/apim.db"}}
    verify: [{sql: "SELECT count(*) FROM am_api", expect: ">= 1"}]
    rto: 15m
"""
RUNTIME_SERIES = """\
  gw-1-runtime:
    source: {server: gw-1}
    every: 24h
    keep: {last: 1}
    repository: primary-vault
    copies: [dr-vault]
"""
_IDS = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
_TOKENS = re.compile(r"[.-][0-9a-f]{8,12}(?=\.|$)|\.[A-Za-z0-9_]{8}\.tmp$")
_CHANGE_BACKUP_FILES = re.compile(r"^world/primary/\.drydock/change-backups/[^/]+/<id>/files/.")
IGNORED = ("state", "world/primary/opt/gw-1/repository/logs",
           "world/primary/opt/gw-2/repository/logs")


def shape(root: Path) -> set[str]:
    """Every path under `root`, ids and random tokens replaced, runtime noise left out."""
    out = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if any(rel == p or rel.startswith(p + "/") for p in IGNORED) or \
                rel.endswith("wso2carbon.pid"):
            continue
        rel = _TOKENS.sub("<tok>", _IDS.sub("<id>", rel))
        if _CHANGE_BACKUP_FILES.match(rel) and not LEFTOVER.search(rel):
            continue  # what a change backup holds depends on when it was taken
        out.add(rel)
    return out


def _tops(paths: set[str]) -> list[str]:
    """`paths` without those below another one of them."""
    return [p for p in sorted(paths) if not any(p.startswith(q + "/") for q in paths)]


LEFTOVER = re.compile(r"(\.tmp$|\.drydock-restore-|\.drydock-writing|\.next-|/update-\d{4}"
                      r"|^world/scratch/.)")


@dataclass
class Reference:
    """What an uninterrupted apply leaves: the shape of the tree and the servers' homes."""

    shape: set[str]
    homes: dict[str, dict[str, str]]
    levels: dict[str, int]


@dataclass
class KillWorld:
    """The estate, its pristine baseline, and what an uninterrupted apply leaves."""

    root: Path
    estate: Estate
    gateways: tuple[Gateway, ...]
    soak: bool = False
    series: tuple[str, ...] = ("apim-db",)
    reference: Reference | None = None
    runs: int = field(default=0)
    parallelism: int = 1

    @property
    def spec(self) -> Path:
        """The spec folder (the world lives inside it)."""
        return self.estate.spec

    @property
    def baseline(self) -> Path:
        """The spec folder as the killed runs start from it."""
        return self.root / "baseline"

    def cli(self, *args: str, env: dict[str, str] | None = None,
            now: str = AT) -> subprocess.CompletedProcess[str]:
        """The real CLI in a child process, in the spec folder, at `now`."""
        self.runs += 1
        full = {**os.environ, **CHILD_ENV, "DRYDOCK_NOW": now, **(env or {})}
        return cli(list(args), cwd=self.spec, env=full, timeout=600)

    def apply(self, env: dict[str, str] | None = None, now: str = AT
              ) -> subprocess.CompletedProcess[str]:
        """`apply --auto-approve`, one action at a time unless `parallelism` says otherwise
        (then the points come in another order each run, but the same points)."""
        return self.cli("apply", ".", "--auto-approve", "--allow-dirty", "--parallelism",
                        str(self.parallelism), env=env, now=now)

    def stop_servers(self) -> None:
        """Stop every server of the world that runs (a running one has its pid file)."""
        for pid_file in sorted(self.estate.world.glob("primary/opt/*/wso2carbon.pid")):
            stop_home(pid_file.parent)

    def reset(self) -> None:
        """Stop the servers and put the baseline back in place."""
        self.stop_servers()
        shutil.rmtree(self.spec)
        shutil.copytree(self.baseline, self.spec, symlinks=True)

    def state(self) -> StateDocument:
        """The stored state, its checksum verified (StateCorruptError otherwise)."""
        path = self.spec / "state" / "t.json"
        return from_bytes(path.read_bytes(), source=str(path))

    def snapshot(self) -> Reference:
        """What the world looks like now, for comparing with the reference."""
        homes = {g.name: tree(self.estate.home(g.name)) for g in self.gateways}
        levels = {g.name: int(g.level or 0) for g in self.gateways}
        return Reference(shape=shape(self.spec), homes=homes, levels=levels)

    def problems(self) -> list[str]:
        """Every way the world differs from what an uninterrupted apply leaves."""
        assert self.reference is not None
        found = []
        try:
            doc = self.state()
        except Exception as exc:  # the check itself: any failure to read is a finding
            return [f"state unreadable: {exc}"]
        now = self.snapshot()
        found += [f"left behind: {p}" for p in _tops(now.shape - self.reference.shape)]
        found += [f"missing: {p}" for p in _tops(self.reference.shape - now.shape)]
        found += [f"leftover: {p}" for p in _tops({p for p in now.shape if LEFTOVER.search(p)})]
        for name, want in self.reference.homes.items():
            if now.homes[name] != want:
                diff = sorted(set(now.homes[name].items()) ^ set(want.items()))[:3]
                found.append(f"{name}'s home differs from the reference: {diff}")
        for gateway in self.gateways:
            status = server_status(gateway)
            if status is None or not status.get("healthy", True):
                found.append(f"{gateway.name} is not running and healthy: {status}")
            elif status.get("update_level") not in (gateway.level, str(gateway.level)):
                found.append(f"{gateway.name} runs at level {status.get('update_level')}")
        found += self._snapshot_problems(doc)
        return found

    def _snapshot_problems(self, doc: StateDocument) -> list[str]:
        found = []
        for series in self.series:
            record = doc.resources.get(f"backup.{series}")
            catalog = (record.data.get("catalog") or {}) if record else {}
            for name in REPOSITORIES:
                repo = LocalRepository(name, self.spec / "world" / name.split("-")[0] /
                                       "backups")
                ids = [m.id for m in repo.list(series)]
                if len(ids) != 1 or not ids[0].startswith(AT[:10].replace("-", "")):
                    found.append(f"{name}/{series} holds {ids}, not the one snapshot of today")
                listed = sorted(e["id"] for e in catalog.get(name, []))
                if listed != sorted(ids):
                    found.append(f"the state lists {listed} in {name}/{series}, it holds {ids}")
                for sid in ids:
                    if not repo.verify(series, sid).ok:
                        found.append(f"{name}/{series}/{sid} does not verify")
        return found


def build(root: Path, *, soak: bool = False) -> KillWorld:
    """The estate, applied once two days ago; the spec then moves both gateways on."""
    estate = make_estate(root / "live")
    (estate.spec / "data.yaml").write_text(DATA.replace(
        "drills:\n", RUNTIME_SERIES + "drills:\n") if soak else DATA)
    seed_apis(estate.world / "primary" / "apim.db")
    start, goal = (10, 14) if soak else (10, 11)
    home_at_level(estate, "gw-1", start)
    home_at_level(estate, "gw-2", start)
    level_pack(estate, goal)
    old = (Gateway("gw-1", level=start, patches=(1,), group="gateways"),
           Gateway("gw-2", level=start, strategy="replace", group="gateways"))
    estate.declare(*old)
    world = KillWorld(root, estate, old, soak=soak, parallelism=4 if soak else 1,
                      series=("apim-db", "gw-1-runtime") if soak else ("apim-db",))
    first = world.apply(now=BEFORE)
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    new = (Gateway("gw-1", port=old[0].port, level=goal, patches=(1, 2), group="gateways"),
           Gateway("gw-2", port=old[1].port, level=goal, strategy="replace", patches=(1,),
                   group="gateways"))
    estate.declare(*new)
    template = estate.spec / "templates" / "deployment.toml.j2"
    template.write_text(template.read_text() + "\n[transport.http]\nmax_threads = 200\n")
    world.gateways = new
    estate.stop_all()
    shutil.copytree(estate.spec, world.baseline, symlinks=True)
    return world
