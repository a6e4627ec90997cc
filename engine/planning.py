"""Make a plan: desired + recorded + observed → changes, drift, actions, records."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from engine.contracts.models import (
    Action,
    AttrDiff,
    Change,
    DesiredResource,
    Drift,
    GitInfo,
    ObservedResource,
    Plan,
    RecordUpdate,
)
from engine.desired import build_desired
from engine.diff import IgnoreMatcher, diff_resource, drift_resource
from engine.drills_status import drill_findings, failed_drill_warnings
from engine.planners import PlanContext, plan_change
from engine.planners.assemble import PlanError, assemble_plan
from engine.planners.backup_artifacts import plan_artifact_prunes
from engine.planners.backups import backup_freshness, plan_backups
from engine.planners.base import PlanningError
from engine.planners.drills import desired_drills, plan_drills
from engine.planners.refresh_only import accepted_records, refresh_only_warning
from engine.planners.server import SERVICE_DIFF
from engine.planners.site_drills import (
    Rehearsal,
    desired_site_drills,
    plan_site_drills,
    rehearsed_snapshots,
)
from engine.replacing import (
    ReplaceRequestError,
    check_replacements,
    replace_warnings,
    replaced,
)
from engine.spec.loader import LoadedSpec
from engine.targeting import TargetError, resolve_targets, selected, targeting_warning
from state.document import StateDocument


def _kind_of(address: str, desired: DesiredResource | None, doc: StateDocument) -> str:
    if desired is not None:
        return desired.kind
    rec = doc.resources.get(address)
    return rec.kind if rec else address.split(".", 1)[0]


def compute_changes(
    desired: Mapping[str, DesiredResource],
    doc: StateDocument,
    observed: Mapping[str, ObservedResource] | None,
    ignore: IgnoreMatcher,
) -> tuple[list[Change], list[Drift]]:
    """Per address (desired ∪ recorded, sorted): its change and any drift (pure)."""
    changes, drift = [], []
    for address in sorted(set(desired) | set(doc.resources)):
        want = desired.get(address)
        rec = doc.resources.get(address)
        recorded = dict(rec.attributes) if rec else None
        obs = observed.get(address) if observed is not None else None
        kind = _kind_of(address, want, doc)
        changes.append(diff_resource(address, kind, want, recorded, obs))
        found = drift_resource(address, kind, want, recorded, obs, ignore)
        if found is not None:
            drift.append(found)
    return changes, drift


def interrupted_change(change: Change, spec: LoadedSpec,
                    observed: Mapping[str, ObservedResource] | None,
                    stopped: frozenset[str] = frozenset()) -> Change:
    """An up-to-date server whose declared service is not running becomes an update that
    starts it and checks its health: a crashed apply stopped it and never started it again
    (`stopped`, from the journal), or its pid file names a process that is gone. One whose
    pack replacement was killed between its two renames gets it finished."""
    seen = (observed or {}).get(change.address)
    if change.kind != "server" or change.action != "no-op" or seen is None or not seen.exists:
        return change
    swap = seen.facts.get("interrupted_swap")
    if swap:
        home = str(seen.attributes.get("home"))
        return Change(address=change.address, kind="server", action="update",
                      reason="a pack replacement was cut between its renames: finish it",
                      diffs=(AttrDiff(name="home", before=f"{home}.next-{swap}", after=home),))
    if change.address not in stopped and seen.facts.get("service_died") is not True:
        return change
    server = spec.env.servers.get(change.address.partition(".")[2])
    if server is None or server.service is None:
        return change
    return Change(address=change.address, kind="server", action="update",
                  reason="service is not running: start it and check its health",
                  diffs=(AttrDiff(name=SERVICE_DIFF, before="stopped", after="running"),))


def make_plan(
    spec: LoadedSpec,
    doc: StateDocument,
    observe: Callable[[Mapping[str, DesiredResource]], Mapping[str, ObservedResource]] | None,
    *,
    plan_id: str,
    now: datetime,
    git: GitInfo | None = None,
    targets: Sequence[str] = (),
    warnings: Sequence[str] = (),
    interrupted: frozenset[str] = frozenset(),
    stopped: frozenset[str] = frozenset(),
    refresh_only: bool = False,
    rehearsals: Mapping[str, Rehearsal] | None = None,
    replace: Sequence[str] = (),
) -> Plan:
    """Build the full plan. `observe` is the refresh (None to plan from the state only);
    `rehearsals` the recoveries the due site drills rehearse (engine.operations.site_drills).
    With `refresh_only` the plan has no action, only records accepting the drift found.
    `replace` are servers to rebuild although unchanged (`--replace`).

    Raises PlanError when a resource could not be observed, a target matches nothing, a
    replacement cannot be honoured or the graph is invalid.
    """
    desired = {**build_desired(spec), **desired_drills(spec), **desired_site_drills(spec)}
    if targets:
        try:
            chosen = resolve_targets(targets, [*desired, *doc.resources])
        except TargetError as exc:
            raise PlanError(str(exc)) from None
        warnings = [targeting_warning(targets, chosen), *warnings]
    try:
        rebuild = check_replacements(replace, desired, doc.resources, targets)
    except ReplaceRequestError as exc:
        raise PlanError(str(exc)) from None
    observed = observe(desired) if observe is not None else None
    errors = [o.error for o in (observed or {}).values() if o.error]
    if errors:
        raise PlanError("; ".join(errors))
    ignore = IgnoreMatcher([(r.address, r.attributes) for r in spec.env.ignore] + [
        (f"server.{n}", s.ignore) for n, s in spec.env.servers.items() if s.ignore])
    changes, drift = compute_changes(desired, doc, observed, ignore)
    # a launched EC2 host's record (instance, address) stays while the spec declares it
    changes = [c for c in changes if not (c.kind == "host" and c.action == "delete"
                                          and c.address.split(".", 1)[1] in spec.env.hosts)]
    changes = [interrupted_change(c, spec, observed, stopped) for c in changes]
    changes = [replaced(c, rebuild) for c in changes if selected(c.address, targets)]
    warnings = [*warnings, *replace_warnings(changes, rebuild)]
    if refresh_only:
        records = accepted_records(drift, doc, lambda a: selected(a, targets))
        return assemble_plan(spec, doc, [], plan_id=plan_id, now=now, git=git, drift=drift,
                             records=records,
                             warnings=[*warnings, refresh_only_warning(records)])
    ctx = PlanContext(
        spec=spec, plan_id=plan_id, now=now,
        recorded={a: dict(r.attributes) for a, r in doc.resources.items()},
        recorded_data={a: dict(r.data) for a, r in doc.resources.items()},
        desired=dict(desired), observed=dict(observed or {}), interrupted=interrupted,
        held=rehearsed_snapshots(rehearsals or {}), replace=rebuild,
    )
    actions: list[Action] = []
    by_address: dict[str, list[Action]] = {}
    for change in changes:
        try:
            planned = plan_change(change, ctx)
        except PlanningError as exc:
            raise PlanError(str(exc)) from None
        actions.extend(planned)
        if planned:
            by_address[change.address] = planned
    backup_actions, edges = plan_backups(ctx, by_address)
    backup_actions += plan_artifact_prunes(ctx, backup_actions)
    changed = {a.id for a in actions}
    follows = {after for before, after in edges if before in changed}
    # what a targeted change needs first (its backup) and the snapshot taken after it
    needed = {before for before, _after in edges} | {
        a.id for a in backup_actions if a.params.get("after_change") and a.id in follows}
    actions.extend(a for a in backup_actions if selected(a.address, targets) or a.id in needed)
    drill_actions, drill_warnings = plan_drills(ctx, [a for a in actions
                                                      if a.type.startswith("backup.")])
    actions.extend(a for a in drill_actions if selected(a.address, targets))
    site_actions, site_warnings = plan_site_drills(ctx, rehearsals or {})
    actions.extend(a for a in site_actions if selected(a.address, targets))
    drill_warnings = [*drill_warnings, *site_warnings]
    warnings = [*failed_drill_warnings(drill_findings(doc, spec, now)), *warnings,
                *drill_warnings]
    planned_ids = {a.id for a in actions}
    edges = [(a, b) for a, b in edges if a in planned_ids and b in planned_ids]
    noted = [c for c in changes if c.action != "no-op"]
    return assemble_plan(
        spec, doc, actions, plan_id=plan_id, now=now, git=git, changes=noted, drift=drift,
        records=_records(changes, desired, doc), warnings=warnings, edges=edges,
        freshness=backup_freshness(ctx))


def _records(changes: Sequence[Change], desired: Mapping[str, DesiredResource],
             doc: StateDocument) -> list[RecordUpdate]:
    out = []
    for change in changes:
        kind, name = change.address.split(".", 1)
        if change.action == "delete":
            out.append(RecordUpdate(address=change.address, kind=kind, name=name, remove=True))
            continue
        want = desired.get(change.address)
        if want is None:
            continue
        rec = doc.resources.get(change.address)
        if change.action == "no-op" and rec is not None and dict(rec.attributes) == want.attributes:
            continue
        out.append(RecordUpdate(address=change.address, kind=kind, name=name,
                                attributes=want.attributes))
    return out
