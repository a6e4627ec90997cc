"""Plan bringing a server back to its last good applied version (pure).

The good version is a kept state version of a successful apply; the plan goes back in
the runbook's order (backup, stop, levels, patches, config, start, health) with the
exact bytes of the managed files found in the server's change backups or snapshots.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.contracts.models import DesiredResource, GitInfo, ObservedResource, Plan, RecordUpdate
from engine.contracts.names import patch_dir, split_product
from engine.desired.servers import server_home
from engine.diff import diff_resource
from engine.planners.assemble import assemble_plan
from engine.planners.base import PlanContext
from engine.planners.restore.common import RestoreError
from engine.planners.server import plan_server
from engine.spec.common import PATCH_ID_RE
from engine.spec.loader import LoadedSpec
from engine.spec.models import ConfigFile
from state.document import StateDocument

_SUCCESS = re.compile(r"^\d+ ok, 0 failed, 0 skipped$")


def succeeded(summary: str) -> bool:
    """True for the summary of an apply in which nothing failed or was skipped."""
    return bool(_SUCCESS.match(summary or ""))


def good_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """What `--last-good` brings back of a recorded server: level, patches, config digests."""
    return {k: v for k, v in attributes.items()
            if k in ("update_level", "patches") or k.startswith("config:")}


def differs(good: Mapping[str, Any], observed: Mapping[str, Any]) -> bool:
    """True when the server as observed is not the recorded good version."""
    return any(observed.get(k) != v for k, v in good.items())


def patch_ids(spec: LoadedSpec, product: str, dirs: Sequence[str],
              kernel: str | None = None) -> dict[str, str]:
    """Patch folder -> patch id (archive name), from any server of `product` declaring it;
    else `WSO2-CARBON-PATCH-<kernel>-<NNNN>`, the kernel being `kernel`, or the one the
    product's declared patch ids name (patches are named for the Carbon kernel, never for
    the product's version, which is the last resort)."""
    declared = [p for s in spec.env.servers.values() if s.product == product for p in s.patches]
    known = {patch_dir(p): p for p in declared}
    named = [m.group("kernel") for p in declared if (m := PATCH_ID_RE.fullmatch(p))]
    version = kernel or (named[0] if named else None) or (
        spec.env.products[product].version or split_product(product)[1])
    return {d: known.get(d, f"WSO2-CARBON-PATCH-{version}-{d.removeprefix('patch')}")
            for d in dirs}


def last_good_spec(spec: LoadedSpec, name: str, good: Mapping[str, Any]) -> LoadedSpec:
    """The spec as if it declared server `name` at its good version (level, patches and
    the managed files recorded then), so the server planner can plan the way back."""
    server = spec.env.servers[name]
    dirs = list(good.get("patches") or [])
    paths = [k.removeprefix("config:") for k in good if k.startswith("config:")]
    config = {p: ConfigFile(content="", mode=server.config[p].mode if p in server.config
                            else 0o644) for p in paths}
    changed = server.model_copy(update={
        "update_level": good.get("update_level", server.update_level),
        "patches": list(patch_ids(spec, server.product, dirs).values()), "config": config})
    env = spec.env.model_copy(update={"servers": {**spec.env.servers, name: changed}})
    return dataclasses.replace(spec, env=env)


def last_good_desired(spec: LoadedSpec, name: str, good: Mapping[str, Any],
                      texts: Mapping[str, str]) -> DesiredResource:
    """The desired server of `last_good_spec`, its managed files the found bytes."""
    server = spec.env.servers[name]
    attrs: dict[str, Any] = {"product": server.product, "home": str(server_home(spec, server)),
                             "patches": sorted(good.get("patches") or []), **good}
    return DesiredResource(address=f"server.{name}", kind="server", name=name,
                           attributes=attrs, files=dict(texts))


def plan_last_good(spec: LoadedSpec, doc: StateDocument, name: str, desired: DesiredResource,
                   observed: ObservedResource, *, serial: int, plan_id: str, now: datetime,
                   git: GitInfo | None = None) -> Plan:
    """The plan that brings server `name` back to `desired`, the version recorded at state
    `serial`, in the runbook's order (backup, stop, levels, patches, config, start,
    health; compensation restores the backup). `spec` is `last_good_spec`'s.

    Raises RestoreError when the server already is at that version.
    """
    address = f"server.{name}"
    record = doc.resources[address]
    change = diff_resource(address, "server", desired, dict(record.attributes), observed)
    if change.action == "no-op":
        raise RestoreError(f"{address} already matches its version of state serial {serial}; "
                           "nothing to restore (pass --serial to choose an older one)")
    change = change.model_copy(update={
        "reason": f"back to its last good version, state serial {serial}: {change.reason}"})
    ctx = PlanContext(spec=spec, plan_id=plan_id, now=now,
                      recorded={a: dict(r.attributes) for a, r in doc.resources.items()},
                      recorded_data={a: dict(r.data) for a, r in doc.resources.items()},
                      desired={address: desired}, observed={address: observed})
    actions = plan_server(change, ctx)
    keep = good_attributes(desired.attributes)
    attrs = {k: v for k, v in record.attributes.items() if not k.startswith("config:")}
    records = [RecordUpdate(address=address, kind="server", name=name,
                            attributes={**attrs, **keep})]
    warnings = [f"the spec declares server.{name} differently; the next plan puts the spec "
                "back unless the spec changes"]
    return assemble_plan(spec, doc, actions, plan_id=plan_id, now=now, git=git,
                         changes=[change], records=records, warnings=warnings)
