"""`plan_recovery(site)`: the plan that rebuilds the environment at a site from what the
site's repositories hold alone, made under the caller's state lock.

Per backup policy the newest snapshot whose stored parts verify is chosen (a damaged one
is named and an older one tried); a pack's update level comes from the snapshot's
replicated artifacts, or, for a snapshot taken before those, from the pack itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.contracts.facts import SnapshotInfo
from engine.gitinfo import git_info
from engine.operations.ids import new_id
from engine.operations.restore import listings
from engine.planners.recover import RecoverPlan, RecoveryScope, candidates, plan_recover
from engine.planners.recover_ec2 import image_policies
from engine.workspace import Workspace
from state.document import StateDocument


@dataclass(frozen=True)
class PlannedRecovery:
    """The recovery's plan (with its recovery points) and warnings to show first."""

    planned: RecoverPlan
    warnings: tuple[str, ...] = ()


def _choose(ws: Workspace, scope: RecoveryScope, snapshots: list[SnapshotInfo],
            warnings: list[str]) -> tuple[dict[str, SnapshotInfo], dict[str, dict[str, str]]]:
    """Per policy, the newest snapshot whose stored parts verify, and its file digests."""
    chosen: dict[str, SnapshotInfo] = {}
    digests: dict[str, dict[str, str]] = {}
    files = {p: sorted(ws.spec.env.servers[s.server].config)
             for s in scope.servers for p in s.policies}
    hosts = ws.spec.env.recover[scope.site].hosts
    for policy in [*scope.policies, *image_policies(ws.spec, hosts)]:  # AMIs: recover_ec2
        for snap in candidates(scope, policy, snapshots):
            seen = ws.registry.inspect_snapshot(ws.spec, snap, files=files.get(policy, []),
                                                verify=True)
            if seen.verified:
                chosen[policy] = snap
                digests[policy] = dict(seen.files)
                break
            warnings.append(f"snapshot {snap.label} is damaged ({seen.problem}); trying an "
                            "older one")
    return chosen, digests


def _facts(policies: tuple[str, ...], chosen: dict[str, SnapshotInfo]) -> dict[str, object]:
    snap = next((chosen[p] for p in policies if p in chosen), None)
    return snap.facts if snap is not None else {}


def plan_recovery(ws: Workspace, scope: RecoveryScope, doc: StateDocument,
                  now: datetime) -> PlannedRecovery:
    """The recovery plan of `scope` (from `recovery_scope(spec, site)`) against `doc`.

    Raises RecoverError (nothing to recover, a mapping that does not fit) or QueryFailed
    (a snapshot or a pack could not be read), each one line.
    """
    found, unreadable = listings(ws, scope.repositories)
    warnings = list(unreadable)
    snapshots = [s for snaps in found.values() for s in snaps]
    chosen, digests = _choose(ws, scope, snapshots, warnings)
    # A snapshot that names its replicated artifacts records the pack's level and kernel
    # too; only servers without one need their product's pack and updates folder read
    # (the spec's folders, which may be the lost site's).
    products = {ws.spec.env.servers[s.server].product for s in scope.servers
                if "pack_update_level" not in _facts(s.policies, chosen)}
    packs = {p: ws.registry.pack_facts(ws.spec, p) for p in sorted(products)}
    levels = {p: facts.update_level for p, facts in packs.items()}
    planned = plan_recover(ws.spec, doc, scope, chosen, pack_levels=levels, packs=packs,
                           digests=digests,
                           plan_id=new_id(now), now=now, git=git_info(ws.spec.directory))
    return PlannedRecovery(planned, tuple(warnings))
