"""Plan database changes: create a missing target, forget a removed one (pure).

A database removed from the spec is only forgotten by drydock: data is never dropped by
a plan.
"""

from __future__ import annotations

from engine.contracts.models import Action, Change
from engine.planners.base import Chain, PlanContext


def plan_database(change: Change, ctx: PlanContext) -> list[Action]:
    """`database.create` for create/replace, `database.forget` for delete."""
    chain = Chain(change.address)
    name = change.address.split(".", 1)[1]
    if change.action == "delete":
        chain.add("forget", "database.forget",
                  f"stop managing {change.address} (its data is left in place)")
        return chain.actions
    desired = ctx.desired[change.address]
    problems = []
    if desired.attributes.get("engine") == "rds":
        problems = [f"RDS instance {desired.attributes.get('identifier')} does not exist; "
                    "drydock does not create RDS instances: create it in AWS or restore a "
                    f"snapshot into it (drydock restore SNAPSHOT --to {change.address})"]
    chain.add("create", "database.create", f"create {desired.attributes.get('engine')} "
              f"database {name}", {"name": name, **desired.attributes, "problems": problems})
    return chain.actions
