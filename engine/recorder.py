"""Record an apply's results in the state document as they happen, and save it at intervals.

A resource's record is replaced when all of its actions succeeded; outcome data of
actions (catalogs, drill runs) is merged even when a later action of the resource failed;
`ALSO` data lands in other resources' records at once. The document is written every few
seconds while work is recorded (less often as it grows: see SAVE_SHARE) and once at the
end, never once per action.
"""

from __future__ import annotations

import getpass
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from engine.apply import ActionReport
from engine.contracts.models import Action, Plan
from engine.contracts.provider import ALSO, ActionOutcome
from state.document import AppliedInfo, ResourceRecord, StateDocument
from state.manager import StateManager

SAVE_EVERY_SECONDS = 5.0
SAVE_SHARE = 0.1
"""At most this share of an apply's time goes to rewriting the state document while it
runs: the interval between saves grows with the cost of the last one, so a run of n
actions rewrites its O(n) document O(1) times per unit of work, never O(n) times (the
journal keeps every result durable in between)."""
_RESOURCE = re.compile(r"^[a-z][a-z0-9_-]*\.[^.]")


def _merge(into: dict, values: Mapping) -> None:
    """Merge recorded data: dict values merge key by key, anything else replaces."""
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            into[key] = {**into[key], **value}
        else:
            into[key] = value


class StateRecorder:
    """Applies results to the in-memory state and persists it at intervals."""

    def __init__(self, state: StateManager, doc: StateDocument, plan: Plan,
                 now: datetime) -> None:
        self.state, self.doc, self.plan, self.now = state, doc, plan, now
        self.resources = dict(doc.resources)
        self.updates = {r.address: r for r in plan.records}
        self.lock = threading.Lock()
        self.remaining = Counter(a.address for a in plan.actions)
        self.failed: set[str] = set()
        self.data: dict[str, dict] = {}
        self.prints: dict[str, dict] = {}
        self.last_save = time.monotonic()
        self.save_cost = 0.0
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
            if self.dirty and time.monotonic() - self.last_save > self.interval():
                self.save(final=False)

    def interval(self) -> float:
        """Seconds between saves while the apply runs: 5, or more once a save costs more
        than SAVE_SHARE of that."""
        return max(SAVE_EVERY_SECONDS, self.save_cost / SAVE_SHARE)

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
        started = time.monotonic()
        new = self.doc.model_copy(update={"applied": applied, "resources": dict(self.resources)})
        self.doc = self.state.write(new, expect=self.doc)
        self.last_save = time.monotonic()
        self.save_cost = self.last_save - started
        self.dirty = False
