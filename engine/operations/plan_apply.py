"""The commands' core: plan an environment, apply a plan with state recording."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from engine import killpoints
from engine.apply import ApplyResult, Callbacks, execute
from engine.contracts.models import DesiredResource, ObservedResource, Plan
from engine.contracts.provider import ActionContext
from engine.contracts.witness import Witness
from engine.gitinfo import git_info
from engine.operations.ids import new_id
from engine.planning import make_plan
from engine.recorder import StateRecorder
from engine.refresh import refresh
from engine.secrets import resolve_secret
from engine.workspace import Workspace
from state import fingerprint_cache
from state.document import StateDocument
from state.journal import Journal, JournalIntent

if TYPE_CHECKING:
    from engine.planners.site_drills import Rehearsal


class StalePlanError(ValueError):
    """A saved plan no longer matches the state or the spec it was made from."""


def interrupted(ws: Workspace) -> list[JournalIntent]:
    """Actions a crashed earlier run started but never finished."""
    if not ws.journal_path.exists():
        return []
    with Journal.open(ws.journal_path) as journal:
        return journal.unfinished()


def left_stopped(ws: Workspace) -> frozenset[str]:
    """Servers a crashed apply stopped and never started again (by the journal's records of
    runs that never ended, in order): the next plan starts them."""
    if not ws.journal_path.exists():
        return frozenset()
    with Journal.open(ws.journal_path) as journal:
        records = journal.records()
    ended = {r.run_id for r in records if r.kind == "end"}
    intents: dict[tuple[str, str], tuple[str, str]] = {}
    last: dict[str, str] = {}
    for r in records:
        if r.run_id in ended or r.action_id is None:
            continue
        if r.kind == "intent":
            intents[(r.run_id, r.action_id)] = (r.address or "", r.type or "")
            if r.type == "server.stop":
                last[r.address or ""] = "stopped"
        elif r.kind == "result" and r.status == "ok":
            address, type_ = intents.get((r.run_id, r.action_id), ("", ""))
            if type_ == "server.start":
                last[address] = "started"
    return frozenset(a for a, s in last.items() if s == "stopped")


def plan_workspace(ws: Workspace, now: datetime, *, do_refresh: bool = True,
                   targets: Sequence[str] = (), doc: StateDocument | None = None,
                   on_observed: Callable[[str, int], None] = lambda _a, _t: None,
                   refresh_only: bool = False, replace: Sequence[str] = (),
                   witness: Witness | None = None) -> Plan:
    """Make a plan for the workspace's environment against its current state.

    `on_observed(address, total)` reports refresh progress; `refresh_only` makes a plan
    that only accepts drift into the state (it always refreshes); `replace` are servers
    to rebuild although unchanged (always refreshed). `witness` gets every read the
    refresh makes on the hosts (the no-op plan memo).
    """
    doc = doc if doc is not None else ws.state.read()
    unfinished = interrupted(ws)
    warnings = [f"an earlier apply (run {i.run_id}) was interrupted during {i.action_id}; "
                f"{i.address} was refreshed instead of trusting the state" for i in unfinished]
    stopped = left_stopped(ws)
    must_refresh = {i.address for i in unfinished} | stopped | set(replace)
    replacing = frozenset(replace)

    cache_file = fingerprint_cache.cache_path(ws.journal_path)

    def observe(desired: Mapping[str, DesiredResource]) -> Mapping[str, ObservedResource]:
        cache = fingerprint_cache.load(cache_file)
        if do_refresh:
            with _witnessed(ws, witness):
                seen = refresh(ws.registry, ws.spec, desired, doc.resources, cache=cache,
                               on_done=on_observed, replacing=replacing, witness=witness)
        else:
            if witness is not None:
                witness.spoil("the plan trusts the state (--no-refresh)")
            wanted = {a: d for a, d in desired.items() if a in must_refresh}
            seen = refresh(ws.registry, ws.spec, wanted,
                           {a: r for a, r in doc.resources.items() if a in must_refresh},
                           cache=cache, replacing=replacing)
        observed = {a: o.fingerprints for a, o in seen.items() if o.error is None}
        if any(cache.get(a) != f for a, f in observed.items()):
            fingerprint_cache.save(cache_file, fingerprint_cache.updated(cache, observed))
        return seen

    plan_id = new_id(now)
    try:
        refreshing = do_refresh or must_refresh or refresh_only
        return make_plan(ws.spec, doc, observe if refreshing else None,
                         plan_id=plan_id, now=now, git=git_info(ws.spec.directory),
                         targets=targets, warnings=warnings, refresh_only=refresh_only,
                         replace=replace,
                         interrupted=frozenset(i.action_id for i in unfinished),
                         stopped=stopped,
                         rehearsals=_rehearsals(ws, doc, now)
                         if do_refresh and not refresh_only else None)
    finally:
        ws.registry.close()  # the refresh's host connections


@contextmanager
def _witnessed(ws: Workspace, witness: Witness | None) -> Iterator[None]:
    """The refresh's host reads go into `witness` (spoiled when the workspace has no
    host pool to write them)."""
    if witness is None:
        yield
    elif ws.hosts is None:
        witness.spoil("no host pool to watch")
        yield
    else:
        with ws.hosts.witnessed(witness):
            yield


def _rehearsals(ws: Workspace, doc: StateDocument, now: datetime) -> dict[str, Rehearsal]:
    """The due site drills' rehearsals; recovery planning is imported only when the spec
    declares a site drill."""
    if not any(d.site is not None for d in ws.spec.env.drills.values()):
        return {}
    from engine.operations.site_drills import rehearsals

    return rehearsals(ws, doc, now)


def check_fresh(plan: Plan, doc: StateDocument, spec_digest: str) -> None:
    """Refuse a plan made against another state version or another spec."""
    if plan.environment != doc.environment:
        raise StalePlanError(f"plan {plan.id} is for environment {plan.environment!r}, "
                             f"not {doc.environment!r}")
    fresh_state = plan.state.serial == 0 and doc.serial == 0
    if plan.state.serial != doc.serial:
        raise StalePlanError(f"plan {plan.id} is stale: made at state serial "
                             f"{plan.state.serial}, the state is now at serial {doc.serial}; "
                             "run 'drydock plan' again")
    if not fresh_state and plan.state.lineage != doc.lineage:
        raise StalePlanError(f"plan {plan.id} was made for state lineage {plan.state.lineage}, "
                             f"but the state is lineage {doc.lineage}; run 'drydock plan' again")
    if plan.spec_digest != spec_digest:
        raise StalePlanError(f"plan {plan.id} is stale: the spec changed since it was made; "
                             "run 'drydock plan' again")


def apply_plan(ws: Workspace, plan: Plan, now: datetime, *, parallelism: int = 10,
               doc: StateDocument, callbacks: Callbacks | None = None,
               progress: Callable[[str], None] = lambda _m: None,
               ) -> tuple[ApplyResult, StateDocument]:
    """Run `plan` against `doc` (read under the caller's lock) and record the results.

    The caller holds the state lock. Returns the result and the final stored document.
    """
    check_fresh(plan, doc, ws.spec.digest)
    run_id = new_id(now)
    recorder = StateRecorder(ws.state, doc, plan, now)
    cb = callbacks or Callbacks()
    both = Callbacks(
        on_start=cb.on_start,
        on_report=lambda r: (recorder.report(r), cb.on_report(r)),
        on_outcome=lambda a, o: (recorder.outcome(a, o), cb.on_outcome(a, o)),
    )
    ctx = ActionContext(spec=ws.spec, now=now, run_id=run_id,
                        resolve_secret=lambda ref: resolve_secret(ref, ws.spec.directory),
                        progress=progress)
    with Journal.open(ws.journal_path) as journal:
        # The plan refreshed what crashed runs left unfinished; they are settled once this
        # run is recorded (a run killed before then leaves them for the next plan to see).
        crashed = sorted({i.run_id for i in journal.unfinished()})
        journal.begin_run(run_id, plan.id)
        try:
            result = execute(plan, ws.registry, ctx, journal, parallelism=parallelism,
                             callbacks=both)
        finally:
            ws.registry.close()  # the run's host connections
        recorder.record_without_actions()
        ok, failed, skipped = result.count("ok"), result.count("failed"), result.count("skipped")
        summary = f"{ok} ok, {failed} failed, {skipped} skipped"
        killpoints.reached("apply:save")
        recorder.save(final=True, summary=summary)
        killpoints.reached("apply:saved")
        for old_run in crashed:
            journal.end_run(old_run)
        journal.end_run(run_id)
        journal.clear_finished()
    return result, recorder.doc
