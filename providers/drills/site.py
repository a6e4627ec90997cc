"""The site drill provider: runs `drill.site`, the rehearsal of a site's recovery.

Like `drill.run` it succeeds once the run is recorded: the run (appended to the last
ones, at most 20) goes into the drill's record through the recorder's `_also` data and
into a report under `.drydock/drills/`; `drill.verdict` (the drill provider's) then fails
the apply when the rehearsal did not pass. The rehearsal's steps run through the
provider of each step's type: the registry binds its `run` here when it is built.
"""

from __future__ import annotations

from typing import ClassVar

from engine.contracts.models import Action
from engine.contracts.provider import ALSO, ActionContext, ActionFailed, ActionOutcome, Provider
from providers.drills.rehearsal import RunStep, run_rehearsal
from providers.drills.report import keep_run
from providers.hosts.pool import HostPool


class SiteDrillProvider(Provider):
    """Site drills: rehearse a recovery into scratch targets, record how it went."""

    action_types: ClassVar[tuple[str, ...]] = ("drill.site",)

    def __init__(self, hosts: HostPool | None = None, run_step: RunStep | None = None) -> None:
        self.hosts = hosts or HostPool()
        self._run_step = run_step

    def bind(self, run_step: RunStep) -> None:
        """Give the provider the registry's `run`, through which the steps run."""
        self._run_step = run_step

    def close(self) -> None:
        """Release the run's host connections."""
        self.hosts.close()

    def run(self, action: Action, ctx: ActionContext) -> ActionOutcome:
        """Rehearse, write the report, record the run (the verdict judges it)."""
        if self._run_step is None:
            raise ActionFailed(f"{action.id}: no registry to run the rehearsal's steps")
        p = action.params
        run = run_rehearsal(ctx, p, self.hosts, self._run_step)
        kept = keep_run(action, run)
        verdict = "passed" if run.passed else f"FAILED: {run.reason()}"
        return ActionOutcome(
            message=f"rehearsed the recovery of site {p['site']} in {run.seconds:.3f}s (RTO "
                    f"{run.rto_seconds:g}s), {sum(c.passed for c in run.checks)}/"
                    f"{len(run.checks)} checks passed, torn down; {verdict}",
            data={ALSO: {action.address: kept}})
