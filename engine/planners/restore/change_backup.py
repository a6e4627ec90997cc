"""Plan restoring a server's patches from a change backup (pure).

A change backup is the pre-change backup drydock takes on a server's host; `<server>@<id>`
or `<server>@latest` names one. The patch restoration runbook ("replace the patches
directory of the intended server with a backup of the patches directory of a certain
server") plans: a pre-change backup of the target, stop it (when it has a service),
restore its patch folders from the source, start, health check; a failure after the
backup restores the target's own backup.
"""

from __future__ import annotations

from datetime import datetime

from engine.contracts.facts import ChangeBackup
from engine.contracts.models import AttrDiff, Change, GitInfo, ObservedResource, Plan, RecordUpdate
from engine.contracts.names import patch_dir
from engine.planners.assemble import assemble_plan, server_group
from engine.planners.base import Chain
from engine.planners.restore.common import RestoreError
from engine.planners.server import BACKUP_PATHS, change_backup_dir, restore_steps, service_params
from engine.spec.loader import LoadedSpec
from state.document import StateDocument


def plan_patch_restore(
    spec: LoadedSpec,
    doc: StateDocument,
    target: str,
    source: ChangeBackup,
    observed: ObservedResource,
    *,
    plan_id: str,
    now: datetime,
    git: GitInfo | None = None,
) -> Plan:
    """The plan that puts `source`'s patch folders onto server `target`.

    Its record changes only the target's recorded `patches`. Raises RestoreError when the
    target is not declared, not recorded in the state, has no home, or the source holds
    no patches directory.
    """
    address = f"server.{target}"
    server = spec.env.servers.get(target)
    record = doc.resources.get(address)
    if server is None:
        raise RestoreError(f"{address} is not in the spec; restore onto a declared server")
    if record is None:
        raise RestoreError(f"{address} is not in the state yet; run 'drydock apply' first so "
                           "drydock manages it")
    if not observed.exists:
        raise RestoreError(f"{address} has no home at {observed.attributes.get('home')}")
    if not source.has_patches:
        raise RestoreError(f"change backup {source.server}@{source.id} holds no patches "
                           "directory; pick another backup")
    host = spec.env.hosts[server.host]
    base = {"server": target, "host": server.host, "host_root": str(spec.path(host.root)),
            "home": str(observed.attributes["home"])}
    service = service_params(server)
    backup_dir = change_backup_dir(base, plan_id)
    label = f"{source.server}@{source.id}"
    chain = Chain(address, transaction=True, group=server_group(spec, target))
    chain.add("backup", "server.backup", f"back up patches, conf and updates of {target}",
              {**base, **service, "backup_dir": backup_dir, "paths": list(BACKUP_PATHS)},
              compensation=restore_steps(base, service, backup_dir))
    if service:
        chain.add("stop", "server.stop", f"stop {target}", {**base, **service})
    chain.add("restore-patches", "server.restore-patches",
              f"restore repository/components/patches of {target} from change backup {label} "
              f"({', '.join(source.patches) or 'no patches'})",
              {**base, "source": label, "source_dir": source.dir,
               "patches": list(source.patches)}, risky=True)
    if service:
        chain.add("start", "server.start", f"start {target}", {**base, **service})
        if service.get("health"):
            chain.add("health", "server.health", f"health check {target}", {**base, **service})
    before = list(observed.attributes.get("patches", []))
    change = Change(address=address, kind="server", action="update",
                    reason=f"patches restored from change backup {label}",
                    diffs=(AttrDiff(name="patches", before=before, after=list(source.patches)),))
    attributes = {**record.attributes, "patches": list(source.patches)}
    return assemble_plan(
        spec, doc, chain.actions, plan_id=plan_id, now=now, git=git, changes=[change],
        records=[RecordUpdate(address=address, kind="server", name=target,
                              attributes=attributes)],
        warnings=_warnings(spec, target, source, observed))


def _warnings(spec: LoadedSpec, target: str, source: ChangeBackup,
              observed: ObservedResource) -> list[str]:
    out = []
    level = observed.attributes.get("update_level")
    if level is not None and source.level != level:
        out.append(f"change backup {source.server}@{source.id} was taken at update level "
                   f"{source.level}; server.{target} is at level {level}")
    declared = sorted(patch_dir(p) for p in spec.env.servers[target].patches)
    if declared != sorted(source.patches):
        out.append(f"the spec declares patches {declared} for server.{target}; the next plan "
                   "will put those back unless the spec changes")
    return out
