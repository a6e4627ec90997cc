"""The drill provider: runs `drill.run` and `drill.verdict` actions.

`drill.run` performs the drill and always succeeds once it could record the run: the run
(appended to the last ones, at most 20) goes into the drill's record, and a passed run
marks its snapshot verified in `backup.<policy>` (for `min_verified`), both through the
recorder's `_also` data so they are kept even though the verdict may fail the apply. It
also writes the run as a report under `.drydock/drills/`. `drill.verdict` then fails
when the run did not pass, so `apply` exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from engine.contracts.models import Action, ObservedResource
from engine.contracts.provider import (
    ALSO,
    ActionContext,
    ActionFailed,
    ActionOutcome,
    ObserveRequest,
    Provider,
)
from providers.drills.report import keep_run, read_report
from providers.drills.runner import run_drill
from providers.hosts.pool import HostPool


class DrillProvider(Provider):
    """Restore drills: nothing to observe beyond the spec; runs drills and their verdict."""

    kinds: ClassVar[tuple[str, ...]] = ("drill",)
    action_types: ClassVar[tuple[str, ...]] = ("drill.run", "drill.verdict")

    def __init__(self, hosts: HostPool | None = None) -> None:
        self.hosts = hosts or HostPool()

    def close(self) -> None:
        """Release the run's host connections."""
        self.hosts.close()

    def observe(self, request: ObserveRequest) -> ObservedResource:
        """A drill exists as declared; its runs are data, not observed attributes."""
        attrs = request.desired.attributes if request.desired else (request.recorded or {})
        return ObservedResource(address=request.address,
                                exists=request.desired is not None or bool(request.recorded),
                                attributes=dict(attrs))

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Run the drill, or judge its recorded run."""
        if action.type == "drill.verdict":
            return self._verdict(action)
        p = action.params
        run = run_drill(ctx, p, self.hosts)
        also = {action.address: keep_run(action, run)}
        if run.passed:
            also[p["verified_address"]] = {"verified": {run.snapshot: ctx.now.isoformat()}}
        verdict = "passed" if run.passed else f"FAILED: {run.reason()}"
        return ActionOutcome(
            message=f"restored {run.snapshot} in {run.seconds:.3f}s (RTO "
                    f"{run.rto_seconds:g}s), {sum(c.passed for c in run.checks)}/"
                    f"{len(run.checks)} checks passed; {verdict}",
            data={ALSO: also})

    @staticmethod
    def _verdict(action: Action) -> ActionOutcome:
        try:
            run = read_report(Path(action.params["report"]))
        except ValueError as exc:
            raise ActionFailed(f"{action.id}: {exc}") from exc
        if not run.passed:
            raise ActionFailed(f"drill {action.params['drill']} failed: {run.reason()}")
        return ActionOutcome(message=f"drill {action.params['drill']} passed")
