"""The explicit models that pass between stages: desired, observed, changes, actions, plan."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from engine.formats import PLAN_FORMAT
from state.document import FileFingerprint

__all__ = ["FileFingerprint"]


class Frozen(BaseModel):
    """Base of stage models: immutable values, unknown fields refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DesiredResource(Frozen):
    """What the spec asks for one resource, flattened into comparable attributes.

    `files` holds rendered text of managed files (relative path -> content); only their
    digests are attributes. `depends_on` names other addresses this one needs first.
    """

    address: str
    kind: str
    name: str
    attributes: dict[str, Any]
    files: dict[str, str] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()


class ObservedResource(Frozen):
    """What a refresh read from the world for one resource.

    `files` carries the current text of managed files whose digest differs from the
    desired one (for unified diffs); `fingerprints` feeds the next refresh's cache;
    `facts` holds what planners need but diff must not compare (e.g. update descriptors).
    """

    address: str
    exists: bool
    attributes: dict[str, Any] = Field(default_factory=dict)
    files: dict[str, str] = Field(default_factory=dict)
    fingerprints: dict[str, FileFingerprint] = Field(default_factory=dict)
    facts: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


ChangeAction = Literal["create", "update", "replace", "delete", "no-op"]


class AttrDiff(Frozen):
    """One attribute that differs: what it is now, and what it will be."""

    name: str
    before: Any = None
    after: Any = None


class FileDiff(Frozen):
    """A unified diff of one managed text file."""

    path: str
    unified: str


class Change(Frozen):
    """Per resource: what will happen, why, and which attributes differ."""

    address: str
    kind: str
    action: ChangeAction
    reason: str
    diffs: tuple[AttrDiff, ...] = ()
    file_diffs: tuple[FileDiff, ...] = ()


class Drift(Frozen):
    """Observed reality differs from what the last apply recorded."""

    address: str
    kind: str
    reason: str
    diffs: tuple[AttrDiff, ...] = ()
    file_diffs: tuple[FileDiff, ...] = ()


class Step(Frozen):
    """A compensation step: an action type and its parameters, run if a change fails."""

    type: str
    summary: str
    params: dict[str, Any] = Field(default_factory=dict)


class Action(Frozen):
    """One node of the plan's graph.

    `transaction` groups the actions that change one resource; when one of them fails,
    the `compensation` of the group's completed actions runs (newest first).
    """

    id: str
    address: str
    type: str
    summary: str
    params: dict[str, Any] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    transaction: str | None = None
    compensation: tuple[Step, ...] = ()
    risky: bool = False
    group: str | None = None


class RecordUpdate(Frozen):
    """What apply records for a resource once all of its actions succeed."""

    address: str
    kind: str
    name: str
    remove: bool = False
    attributes: dict[str, Any] = Field(default_factory=dict)


class GitInfo(Frozen):
    """The spec's git position when the plan was made."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool = False


class StateRef(Frozen):
    """Which state version a plan was made against."""

    lineage: str
    serial: int


class PlanSummary(Frozen):
    """Counts per change action and per action type."""

    create: int = 0
    update: int = 0
    replace: int = 0
    delete: int = 0
    drift: int = 0
    actions: int = 0
    by_type: dict[str, int] = Field(default_factory=dict)

    @property
    def has_changes(self) -> bool:
        """True when applying the plan would do anything."""
        return self.actions > 0


class Freshness(Frozen):
    """How old the newest snapshot of a backup policy is in one repository (its RPO)."""

    policy: str
    repository: str
    newest_age_seconds: float | None
    every_seconds: float
    overdue: bool


class Plan(Frozen):
    """The artifact `plan` writes and `apply` executes, exactly (DESIGN §6)."""

    format: int = PLAN_FORMAT
    id: str
    environment: str
    created_at: datetime
    spec_digest: str
    git: GitInfo = Field(default_factory=GitInfo)
    state: StateRef
    changes: tuple[Change, ...] = ()
    drift: tuple[Drift, ...] = ()
    actions: tuple[Action, ...] = ()
    records: tuple[RecordUpdate, ...] = ()
    warnings: tuple[str, ...] = ()
    freshness: tuple[Freshness, ...] = ()
    summary: PlanSummary = Field(default_factory=PlanSummary)
