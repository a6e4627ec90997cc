"""The cases of `python -m bench`, measured in one invocation, and the table they make.

Each row: case, N, drydock's median seconds, a peer's (Puppet or Ansible on the same
files) and the ratio peer/drydock, the physical floor and drydock/floor, the peak RSS.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from bench import peers
from bench.estate import DEPLOYMENT, make_estate, rendered
from bench.runner import Measured, measure

Row = dict[str, object]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """Sizes and run counts of one invocation."""

    quick: bool
    runs: int
    peer_runs: int
    peers: bool
    root: Path
    plan_sizes: tuple[int, ...]
    big: int
    converge: int
    peer_sizes: tuple[int, ...]
    actions: int
    snapshots: int
    graph: int
    ssh_homes: int
    ansible_sizes: tuple[int, ...] = (10,)
    big_runs: int = 2  # runs of the heaviest cases (10,000 servers, converges)

    @classmethod
    def make(cls, *, quick: bool, runs: int | None, peer_runs: int | None, peers: bool,
             root: Path, ansible_sizes: tuple[int, ...] = (10,),
             big_runs: int = 2) -> Settings:
        if quick:
            return cls(True, runs or 1, peer_runs or 1, peers, root, (5, 10), 10, 5, (5,),
                       100, 10_000, 20, 2, (5,))
        return cls(False, runs or 3, peer_runs or 1, peers, root, (10, 100, 1000, 10_000),
                   10_000, 1000, (10, 100), 10_000, 1_000_000, 10_000, 50, ansible_sizes,
                   big_runs)

    def describe(self) -> dict[str, object]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}


def _py() -> str:
    return sys.executable


def _drydock() -> list[str]:
    script = Path(sys.executable).parent / "drydock"
    return [str(script)] if script.exists() else [_py(), "-m", "engine"]


def _row(case: str, n: int, mine: Measured, *, peer: str = "", peer_s: float | None = None,
         floor: str = "", floor_s: float | None = None) -> Row:
    return {"case": case, "n": n, "drydock_s": mine.seconds, "cpu_s": mine.cpu,
            "runs": mine.runs,
            "peer": peer, "peer_s": peer_s, "floor": floor, "floor_s": floor_s,
            "rss_mb": mine.rss_mb}


def _child(name: str, *args: object, runs: int) -> Measured:
    return measure([_py(), "-m", "bench.cases", name, *map(str, args)], runs=runs)


def case_start(s: Settings, log: Progress) -> list[Row]:
    log("start: drydock --version against python -c pass")
    floor = measure([_py(), "-c", "pass"], runs=5 * s.runs)
    mine = measure([*_drydock(), "--version"], runs=5 * s.runs)
    helped = measure([*_drydock(), "--help"], runs=5 * s.runs)
    rows = [_row("start: --version", 1, mine, floor="python -c pass", floor_s=floor.seconds),
            _row("start: --help", 1, helped, floor="python -c pass", floor_s=floor.seconds)]
    if s.peers:
        pup = measure([peers.PUPPET, "--version"], runs=s.peer_runs)
        rows[0] |= {"peer": "puppet --version", "peer_s": pup.seconds}
        ans = measure([str(peers.ansible_playbook()), "--version"], runs=s.peer_runs)
        rows[1] |= {"peer": "ansible-playbook --version", "peer_s": ans.seconds}
    return rows


def _ready(s: Settings, n: int, log: Progress) -> Path:
    """A converged estate of n servers whose state is recorded and cache warm."""
    log(f"estate of {n} servers (generated once, then reused)")
    estate = make_estate(s.root, n)
    if not (estate.spec / "state" / "bench.json").exists():
        measure([*_drydock(), "apply", ".", "--auto-approve", "--allow-dirty"], runs=1,
                cwd=estate.spec)
    # Files written in the last two seconds are not trusted by their stat (neither by the
    # fingerprint cache nor by the memo): let that window pass, then warm both.
    time.sleep(2.1)
    measure([*_drydock(), "plan", "."], runs=1, cwd=estate.spec)
    return estate.spec


def _cache(spec: Path) -> Path:
    return spec / "state" / "bench.json.fingerprints"


def _forget_memos() -> None:
    """Drop every no-op plan memo (the bench's own cache folder, set in `run_cases`)."""
    shutil.rmtree(Path(os.environ["DRYDOCK_CACHE_DIR"]) / "plans", ignore_errors=True)


def _cold(spec: Path) -> None:
    """No fingerprint cache and no memo: every managed file is hashed again."""
    _cache(spec).unlink(missing_ok=True)
    _forget_memos()


def case_noop(s: Settings, log: Progress) -> list[Row]:
    rows = []
    for n in s.plan_sizes:
        spec = _ready(s, n, log)
        runs = min(s.runs, s.big_runs) if n >= 10_000 else s.runs
        log(f"no-op plan of {n}: warm (memo), warm without the memo, then cold")
        warm = measure([*_drydock(), "plan", "."], runs=runs, cwd=spec)
        stat = _child("stat_floor", s.root, n, runs=runs)
        rows.append(_row("no-op plan, warm", n, warm, floor="stat", floor_s=stat.seconds))
        full = measure([*_drydock(), "plan", "."], runs=runs, cwd=spec, before=_forget_memos)
        rows.append(_row("no-op plan, warm, no memo", n, full, floor="stat",
                         floor_s=stat.seconds))
        cold = measure([*_drydock(), "plan", "."], runs=runs, cwd=spec,
                       before=lambda spec=spec: _cold(spec))
        sha = _child("sha256_floor", s.root, n, runs=runs)
        rows.append(_row("no-op plan, cold", n, cold, floor="sha256", floor_s=sha.seconds))
        if s.peers and n in s.peer_sizes:
            rows.extend(_peer_noop(s, n, warm, stat, log))
    return rows


def _peer_noop(s: Settings, n: int, warm: Measured, stat: Measured, log: Progress) -> list[Row]:
    estate = make_estate(s.root, n)
    out = s.root / f"peers-{n}"
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    if n >= 100:
        log(f"puppet apply --noop on {n} servers")
        manifest = peers.puppet_manifest(estate, out / "site.pp")
        pup = measure(peers.puppet_argv(manifest, noop=True, vardir=out / "puppet"),
                      runs=s.peer_runs, ok=peers.PUPPET_OK, cwd=out)
        rows.append(_row("no-op plan, warm", n, warm, peer="puppet apply --noop",
                         peer_s=pup.seconds, floor="stat", floor_s=stat.seconds))
    if n not in s.ansible_sizes:
        return rows
    log(f"ansible-playbook --check on {n} servers")
    book = peers.ansible_playbook_file(estate, out / "site.yml")
    ans = measure(peers.ansible_argv(book, check=True), runs=s.peer_runs, cwd=out)
    rows.append(_row("no-op plan, warm", n, warm, peer="ansible-playbook --check",
                     peer_s=ans.seconds, floor="stat", floor_s=stat.seconds))
    return rows


def case_edit(s: Settings, log: Progress) -> list[Row]:
    n = s.big
    spec = _ready(s, n, log)
    target = make_estate(s.root, n).homes[n // 2] / DEPLOYMENT
    edits = iter(range(1_000_000))

    def hand_edit() -> None:
        target.write_text(rendered(n // 2) + f"# hand edit {next(edits)}\n")

    log(f"plan after one hand edit, {n} servers")
    mine = measure([*_drydock(), "plan", "."], runs=min(s.runs, s.big_runs), cwd=spec,
                   before=hand_edit)
    target.write_text(rendered(n // 2))
    stat = _child("stat_floor", s.root, n, runs=1)
    return [_row("plan after one hand edit", n, mine, floor="stat", floor_s=stat.seconds)]


def _bare(s: Settings, n: int, k: int) -> Path:
    root = s.root / "converge" / f"run-{k}"
    shutil.rmtree(root, ignore_errors=True)
    spec = make_estate(root, n, converged=False).spec
    os.sync()  # the generator's dirty pages are written now, not during the measured run
    return spec


def case_converge(s: Settings, log: Progress) -> list[Row]:
    rows = []
    sizes = sorted({s.converge, *(s.peer_sizes if s.peers else ())})
    for n in sizes:
        counter = iter(range(1000))
        where: list[Path] = []

        def fresh(n: int = n, where: list[Path] = where, counter=counter) -> None:
            where.append(_bare(s, n, next(counter)))

        log(f"converge {n} bare homes (5 patches of 10 jars, 2 config files each)")
        runs = min(s.runs, s.big_runs)
        mine = _measure_in_fresh(
            lambda spec: [*_drydock(), "apply", str(spec), "--auto-approve", "--allow-dirty"],
            runs, fresh, where)
        make_estate(s.root, n)
        sha = _child("sha256_floor", s.root, n, runs=runs)
        write = _child("write_floor", s.root, n, runs=runs)
        rows.append(_row("converge", n, mine, floor="sha256", floor_s=sha.seconds))
        rows.append(_row("converge", n, mine, floor="write the bytes", floor_s=write.seconds))
        if s.peers and n in s.peer_sizes:
            rows.extend(_peer_converge(s, n, mine, sha, log))
        shutil.rmtree(s.root / "converge", ignore_errors=True)
    return rows


def _measure_in_fresh(argv: Callable[[Path], list[str]], runs: int, fresh: Callable[[], None],
                      where: list[Path], ok: tuple[int, ...] = (0,)) -> Measured:
    import statistics

    done = []
    for _ in range(runs):
        fresh()
        done.append(measure(argv(where[-1]), runs=1, cwd=where[-1], ok=ok))
    return Measured(statistics.median(m.seconds for m in done), max(m.rss_mb for m in done),
                    runs, {}, statistics.median(m.cpu for m in done))


def _peer_converge(s: Settings, n: int, mine: Measured, sha: Measured,
                   log: Progress) -> list[Row]:
    rows = []
    counter = iter(range(1000, 2000))
    where: list[Path] = []

    def fresh() -> None:
        spec = _bare(s, n, next(counter))
        where.append(spec)

    if n >= 100:
        log(f"puppet apply on {n} bare homes")

        def pup_argv(spec: Path) -> list[str]:
            from bench.estate import Estate, home_of

            est = Estate(spec, n, tuple(home_of(spec, i) for i in range(n)))
            manifest = peers.puppet_manifest(est, spec / "site.pp")
            return peers.puppet_argv(manifest, noop=False, vardir=spec / "puppet")

        pup = _measure_in_fresh(pup_argv, s.peer_runs, fresh, where, ok=peers.PUPPET_OK)
        rows.append(_row("converge", n, mine, peer="puppet apply", peer_s=pup.seconds,
                         floor="sha256", floor_s=sha.seconds))

    if n not in s.ansible_sizes:
        return rows

    def ans_argv(spec: Path) -> list[str]:
        from bench.estate import Estate, home_of

        est = Estate(spec, n, tuple(home_of(spec, i) for i in range(n)))
        return peers.ansible_argv(peers.ansible_playbook_file(est, spec / "site.yml"),
                                  check=False)

    log(f"ansible-playbook on {n} bare homes")
    ans = _measure_in_fresh(ans_argv, s.peer_runs, fresh, where)
    rows.append(_row("converge", n, mine, peer="ansible-playbook", peer_s=ans.seconds,
                     floor="sha256", floor_s=sha.seconds))
    return rows


def _library(label: str, child: str, size: str, floor_child: str = "",
             floor: str = "") -> Callable[[Settings, Progress], list[Row]]:
    """A case timed inside its child (bench/cases.py), with an optional floor case."""

    def case(s: Settings, log: Progress) -> list[Row]:
        n = getattr(s, size)
        log(f"{label}: {n}")
        mine = _child(child, s.root, n, runs=s.runs)
        low = _child(floor_child, s.root, n, runs=s.runs) if floor_child else None
        return [_row(label, n, mine, floor=floor, floor_s=low.seconds if low else None)]

    return case


def case_ssh(s: Settings, log: Progress) -> list[Row]:
    from bench import ssh_refresh

    log(f"refresh of {s.ssh_homes} homes over ssh vs local")
    try:
        found = ssh_refresh.run(s.ssh_homes, 8)
    except RuntimeError as exc:
        log(f"ssh refresh skipped: {exc}")
        return []
    rows = []
    labels = ("refresh over ssh: warm (stat)", "refresh over ssh: cold (sha256 each)",
              "refresh over ssh: cold (batched sha256)")
    for label, r in zip(labels, found, strict=True):
        rows.append({"case": label, "n": s.ssh_homes, "drydock_s": r["ssh s"],
                     "cpu_s": None, "runs": 1, "peer": "", "peer_s": None, "floor": "same, local",
                     "floor_s": r["local s"], "rss_mb": None})
    return rows


CASES: dict[str, Callable[[Settings, Progress], list[Row]]] = {
    "start": case_start, "noop": case_noop, "edit": case_edit, "converge": case_converge,
    "actions": _library("trivial actions (apply path)", "trivial_actions", "actions"),
    "retention": _library("retention, one series", "retention", "snapshots", "sort_floor",
                          "sort the times"),
    "graph": _library("graph + render (x 8 actions)", "graph_render", "graph"),
    "ssh": case_ssh,
}


def run_cases(s: Settings, only: list[str], progress: Progress) -> list[Row]:
    """Run the chosen cases in table order; the rows of all of them. drydock's cache
    (the no-op plan memos) lives under the bench root, never in the user's home."""
    os.environ["DRYDOCK_CACHE_DIR"] = str(s.root / "drydock-cache")
    if s.peers:
        for line in peers.ensure_installed():
            progress(f"peer unavailable: {line}")
    rows: list[Row] = []
    for name, case in CASES.items():
        if name in only:
            rows.extend(case(s, progress))
    return rows


def _secs(v: object) -> str:
    if not isinstance(v, int | float):
        return ""
    return f"{v * 1000:.0f} ms" if v < 1 else f"{v:.2f} s"


def render_markdown(rows: list[Row], s: Settings) -> str:
    """The one table: case, N, drydock, peer, ratio, floor ratio, peak RSS."""
    out = ["| case | N | drydock | peer | ratio | floor ratio | peak RSS |",
           "|---|---:|---:|---|---:|---|---:|"]
    for r in rows:
        mine, peer_s, floor_s = r["drydock_s"], r["peer_s"], r["floor_s"]
        peer = f"{r['peer']} {_secs(peer_s)}" if r["peer"] else ""
        ratio = f"{peer_s / mine:.1f}× faster" if peer_s and mine else ""
        floor = f"{mine / floor_s:.1f}× {r['floor']} ({_secs(floor_s)})" if floor_s else ""
        rss = f"{r['rss_mb']:.0f} MB" if r["rss_mb"] else ""
        cpu = f" (cpu {_secs(r['cpu_s'])})" if r.get("cpu_s") else ""
        out.append(f"| {r['case']} | {r['n']:,} | {_secs(mine)}{cpu} | {peer} | {ratio} "
                   f"| {floor} | {rss} |")
    out.append(f"\n(median of {s.runs} runs per drydock figure, {s.peer_runs} per peer; "
               "N is servers, actions or snapshots)")
    return "\n".join(out)
