"""Cross-reference checks of site drills (pure): their site, its recover mapping, the
scratch root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from engine.spec.data import Drill
from engine.spec.models import Environment

Loc = tuple[str | int, ...]


def site_drill_problems(env: Environment, name: str, drill: Drill) -> Iterator[tuple[Loc, str]]:
    """What `validate` reports about a site drill: an unknown site, no recover mapping,
    a scratch root that climbs out of its host's root."""
    if drill.site not in env.sites:
        known = ", ".join(sorted(env.sites)) or "none declared"
        yield ("drills", name, "site"), f"unknown site {drill.site!r} (declared: {known})"
        return
    if drill.site not in env.recover:
        yield (("drills", name, "site"),
               f"site {drill.site!r} has no recover mapping to rehearse; add recover."
               f"{drill.site} with hosts, databases and repositories")
    root = PurePosixPath(drill.into.root or ".")
    if ".." in root.parts:
        yield ("drills", name, "into", "root"), "a scratch root may not contain '..'"
