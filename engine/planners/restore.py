"""Plan a restore onto a server from a backup source (pure).

Sources are named on the command line: `<server>@<change-backup-id>` or `<server>@latest`
is a change backup (taken before a server change, kept on the server's host). Anything
else is a snapshot of a backup repository — not restorable onto a server yet; that kind
is parsed here so a snapshot restorer can plug in beside `plan_patch_restore`.

The patch restoration runbook ("replace the patches directory of the intended server with
a backup of the patches directory of a certain server") plans: a pre-change backup of the
target, stop it (when it has a service), restore its patch folders from the source, start,
health check; a failure after the backup restores the target's own backup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from engine.contracts.models import (
    AttrDiff,
    Change,
    Frozen,
    GitInfo,
    ObservedResource,
    Plan,
    RecordUpdate,
    StateRef,
)
from engine.desired.names import patch_dir
from engine.graph import build_graph, with_graph_dependencies
from engine.planners.base import Chain
from engine.planners.server import (
    BACKUP_PATHS,
    change_backup_dir,
    restore_steps,
    service_params,
)
from engine.planning import summarise
from engine.spec.loader import LoadedSpec
from state.document import StateDocument

ONLY = ("patches",)


class RestoreError(ValueError):
    """The restore cannot be planned; the message says what to do instead."""


class RestoreSource(Frozen):
    """What to restore from: a change backup of a server, or a repository snapshot."""

    kind: Literal["change-backup", "snapshot"]
    server: str = ""
    backup_id: str = ""
    snapshot: str = ""

    @property
    def address(self) -> str:
        """The address its provider observes: `change-backup.<server>@<id>`."""
        return f"change-backup.{self.server}@{self.backup_id}"


class ChangeBackupFacts(Frozen):
    """A change backup as observed: where it is, its level and the patch folders it holds."""

    server: str
    id: str
    dir: str
    level: int
    patches: tuple[str, ...]
    has_patches: bool


def parse_source(text: str) -> RestoreSource:
    """`gw-1@20261125T101010Z-ab12cd` or `gw-1@latest` -> a change-backup source; any other
    text is a snapshot id. Raises RestoreError for an empty server or id."""
    if "@" not in text:
        return RestoreSource(kind="snapshot", snapshot=text)
    server, _, backup_id = text.partition("@")
    if not server or not backup_id or "/" in backup_id:
        raise RestoreError(f"{text!r} is not <server>@<change-backup-id> or <server>@latest")
    return RestoreSource(kind="change-backup", server=server, backup_id=backup_id)


def parse_target(text: str) -> str:
    """`server.gw-2` -> `gw-2`; RestoreError for any other kind of address."""
    kind, _, name = text.partition(".")
    if kind != "server" or not name:
        raise RestoreError(f"--to {text!r}: restore onto a server, e.g. --to server.gw-2")
    return name


def plan_patch_restore(
    spec: LoadedSpec,
    doc: StateDocument,
    target: str,
    source: ChangeBackupFacts,
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
    chain = Chain(address, transaction=True)
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
    actions = with_graph_dependencies(chain.actions, build_graph(chain.actions))
    before = list(observed.attributes.get("patches", []))
    change = Change(address=address, kind="server", action="update",
                    reason=f"patches restored from change backup {label}",
                    diffs=(AttrDiff(name="patches", before=before, after=list(source.patches)),))
    attributes = {**record.attributes, "patches": list(source.patches)}
    return Plan(
        id=plan_id, environment=spec.env.environment, created_at=now, spec_digest=spec.digest,
        git=git or GitInfo(), state=StateRef(lineage=doc.lineage, serial=doc.serial),
        changes=(change,), actions=tuple(actions),
        records=(RecordUpdate(address=address, kind="server", name=target,
                              attributes=attributes),),
        warnings=tuple(_warnings(spec, target, source, observed)),
        summary=summarise([change], [], actions),
    )


def _warnings(spec: LoadedSpec, target: str, source: ChangeBackupFacts,
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
