"""The commands' core: plan an environment, apply a plan with state recording."""

from __future__ import annotations

import getpass
import re
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from engine.apply import ActionReport, ApplyResult, Callbacks, execute
from engine.gitinfo import git_info
from engine.model import Action, DesiredResource, ObservedResource, Plan
from engine.planning import make_plan
from engine.refresh import refresh
from engine.secrets import resolve_secret
from engine.workspace import Workspace
from providers.base import ActionContext, ActionOutcome
from state.document import AppliedInfo, ResourceRecord, StateDocument
from state.journal import Journal

SAVE_EVERY_SECONDS = 5.0


class StalePlanError(ValueError):
    """A saved plan no longer matches the state or the spec it was made from."""


def new_id(now: datetime) -> str:
    """A sortable unique id: UTC stamp plus randomness."""
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


def interrupted(ws: Workspace) -> list[str]:
    """Warnings for actions a crashed earlier run started but never finished."""
    if not ws.journal_path.exists():
        return []
    with Journal.open(ws.journal_path) as journal:
        return [f"an earlier apply (run {i.run_id}) was interrupted during {i.action_id}; "
                f"{i.address} was refreshed instead of trusting the state"
                for i in journal.unfinished()]


def plan_workspace(ws: Workspace, now: datetime, *, do_refresh: bool = True,
                   targets: Sequence[str] = (), doc: StateDocument | None = None) -> Plan:
    """Make a plan for the workspace's environment against its current state."""
    doc = doc if doc is not None else ws.state.read()
    warnings = interrupted(ws)
    must_refresh = {w.split(" was refreshed")[0].rsplit("; ", 1)[-1] for w in warnings}

    def observe(desired: Mapping[str, DesiredResource]) -> Mapping[str, ObservedResource]:
        if do_refresh:
            return refresh(ws.registry, ws.spec, desired, doc.resources)
        wanted = {a: d for a, d in desired.items() if a in must_refresh}
        seen = refresh(ws.registry, ws.spec, wanted,
                       {a: r for a, r in doc.resources.items() if a in must_refresh})
        return seen

    plan_id = new_id(now)
    return make_plan(ws.spec, doc, observe if (do_refresh or must_refresh) else None,
                     plan_id=plan_id, now=now, git=git_info(ws.spec.directory),
                     targets=targets, warnings=warnings)


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
    if plan.state.serial != doc.serial:
        raise StalePlanError(f"plan {plan.id} is stale: made at state serial "
                             f"{plan.state.serial}, the state is now at serial {doc.serial}; "
                             "run 'drydock plan' again")
    if plan.spec_digest != spec_digest:
        raise StalePlanError(f"plan {plan.id} is stale: the spec changed since it was made; "
                             "run 'drydock plan' again")


ALSO = "_also"
"""Reserved key of `ActionOutcome.data`: {address: {key: value}} merged into other records
(or the action's own, kept even if a later action of its resource fails), e.g. a drill
marking the snapshot it restored as verified in `backup.<policy>`."""


_RESOURCE = re.compile(r"^[a-z][a-z0-9_-]*\.[^.]")


def _merge(into: dict, values: Mapping) -> None:
    """Merge recorded data: dict values merge key by key, anything else replaces."""
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key] = {**into[key], **value}
        else:
            into[key] = value


class _Recorder:
    """Applies results to the in-memory state and persists it at intervals."""

    def __init__(self, ws: Workspace, doc: StateDocument, plan: Plan, now: datetime) -> None:
        self.ws, self.doc, self.plan, self.now = ws, doc, plan, now
        self.resources = dict(doc.resources)
        self.updates = {r.address: r for r in plan.records}
        self.lock = threading.Lock()
        self.remaining = Counter(a.address for a in plan.actions)
        self.failed: set[str] = set()
        self.data: dict[str, dict] = {}
        self.prints: dict[str, dict] = {}
        self.last_save = time.monotonic()
        self.dirty = False

    def outcome(self, action: Action, outcome: ActionOutcome) -> None:
        with self.lock:
            merged = self.data.setdefault(action.address, {})
            _merge(merged, {k: v for k, v in outcome.data.items() if k != ALSO})
            for address, values in sorted((outcome.data.get(ALSO) or {}).items()):
                self._record_also(address, values)
            if outcome.fingerprints is not None:
                self.prints[action.address] = outcome.fingerprints

    def _record_also(self, address: str, values: dict) -> None:
        """Merge facts an action established about `address` into its record now.

        They hold whatever happens to the rest of the plan (a drill's run is recorded
        even when the drill then fails the apply; a snapshot it restored stays verified).
        A missing record is created with the attributes the plan records for it, if any.
        """
        if not _RESOURCE.match(address) or not isinstance(values, dict):
            return
        kind, _, name = address.partition(".")
        old = self.resources.get(address)
        if old is None:
            update = self.updates.get(address)
            attrs = dict(update.attributes) if update is not None and not update.remove else {}
            old = ResourceRecord(kind=kind, name=name, attributes=attrs, updated_at=self.now)
        data = dict(old.data)
        _merge(data, values)
        self.resources[address] = old.model_copy(update={"data": data, "updated_at": self.now})
        self.dirty = True

    def report(self, report: ActionReport) -> None:
        if report.compensation_of is not None:
            return
        with self.lock:
            if report.status != "ok":
                self.failed.add(report.address)
                return
            self.remaining[report.address] -= 1
            if self.remaining[report.address] == 0:
                self._record(report.address)
            if self.dirty and time.monotonic() - self.last_save > SAVE_EVERY_SECONDS:
                self.save(final=False)

    def _record(self, address: str) -> None:
        if not _RESOURCE.match(address):
            return  # e.g. `dir:/restore/here`: a target, not a resource with a record
        update = self.updates.get(address)
        resources = self.resources
        old = resources.get(address)
        if update is not None and update.remove:
            resources.pop(address, None)
        elif update is not None or address in self.data:
            kind, name = address.split(".", 1)
            data = dict(old.data) if old else {}
            _merge(data, self.data.get(address, {}))
            attrs = update.attributes if update is not None else (old.attributes if old else {})
            resources[address] = ResourceRecord(
                kind=kind, name=name, attributes=attrs, data=data,
                fingerprints=self.prints.get(address, old.fingerprints if old else {}),
                updated_at=self.now)
        self.dirty = True

    def record_without_actions(self) -> None:
        for update in self.plan.records:
            if self.remaining[update.address] == 0 and update.address not in self.failed:
                self._record(update.address)
        for address in sorted(self.failed & set(self.data)):
            old = self.resources.get(address)
            if old is None:
                continue  # never recorded: the next plan refreshes it
            data = dict(old.data)
            _merge(data, self.data[address])
            self.resources[address] = old.model_copy(update={"data": data})

    def save(self, *, final: bool, summary: str = "") -> None:
        applied = AppliedInfo(
            commit=self.plan.git.commit, branch=self.plan.git.branch, dirty=self.plan.git.dirty,
            plan_id=self.plan.id, who=f"{getpass.getuser()}@{socket.gethostname()}",
            when=self.now, summary=summary or ("in progress" if not final else ""),
        )
        new = self.doc.model_copy(update={"applied": applied, "resources": dict(self.resources)})
        self.doc = self.ws.state.write(new, expect=self.doc)
        self.last_save = time.monotonic()
        self.dirty = False


def apply_plan(ws: Workspace, plan: Plan, now: datetime, *, parallelism: int = 10,
               doc: StateDocument, callbacks: Callbacks | None = None,
               progress=lambda _m: None) -> tuple[ApplyResult, StateDocument]:
    """Run `plan` against `doc` (read under the caller's lock) and record the results.

    The caller holds the state lock. Returns the result and the final stored document.
    """
    check_fresh(plan, doc, ws.spec.digest)
    run_id = new_id(now)
    recorder = _Recorder(ws, doc, plan, now)
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
        # The plan refreshed what crashed runs left unfinished; those runs are settled now.
        for old_run in sorted({i.run_id for i in journal.unfinished()}):
            journal.end_run(old_run)
        journal.begin_run(run_id, plan.id)
        result = execute(plan, ws.registry, ctx, journal, parallelism=parallelism,
                         callbacks=both)
        recorder.record_without_actions()
        ok, failed, skipped = result.count("ok"), result.count("failed"), result.count("skipped")
        summary = f"{ok} ok, {failed} failed, {skipped} skipped"
        recorder.save(final=True, summary=summary)
        journal.end_run(run_id)
        journal.clear_finished()
    return result, recorder.doc
