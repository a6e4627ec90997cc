"""`drydock backups forget`: show which snapshots a keep policy keeps, which it removes, why."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.clock import ClockError
from engine.clock import now as clock_now
from engine.commands.common import LockTimeout
from engine.commands.forget_file import ForgetError, load_snapshot_file
from engine.commands.forget_render import forget_report, render_text
from engine.retention import apply_policy
from engine.retention_models import RetentionResult, RetentionSnapshot
from engine.spec.keep import KeepPolicy

if TYPE_CHECKING:
    pass

SeriesLoader = Callable[[str], list[RetentionSnapshot]]
"""Returns the snapshots of the named series (the catalog plugs in here)."""

_OPTION_OF_FIELD = {
    "last": "--keep-last",
    "hourly": "--keep-hourly",
    "daily": "--keep-daily",
    "weekly": "--keep-weekly",
    "monthly": "--keep-monthly",
    "yearly": "--keep-yearly",
    "within": "--keep-within",
    "within_hourly": "--keep-within-hourly",
    "within_daily": "--keep-within-daily",
    "within_weekly": "--keep-within-weekly",
    "within_monthly": "--keep-within-monthly",
    "within_yearly": "--keep-within-yearly",
    "tags": "--keep-tag",
}


class ForgetFormat(StrEnum):
    """Output formats of `backups forget`."""

    text = "text"
    json = "json"


class ForgetRequest(BaseModel):
    """What the operator asked for, as given on the command line."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    series: str | None = None
    snapshots_file: Path | None = None
    dry_run: bool = False
    prune: bool = False
    keep_last: int = 0
    keep_hourly: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    keep_yearly: int = 0
    keep_within: str | None = None
    keep_within_hourly: str | None = None
    keep_within_daily: str | None = None
    keep_within_weekly: str | None = None
    keep_within_monthly: str | None = None
    keep_within_yearly: str | None = None
    keep_tags: list[str] = Field(default_factory=list)
    timezone: str | None = None


def run_forget(
    request: ForgetRequest, *, now: datetime, load_series: SeriesLoader | None = None
) -> RetentionResult:
    """Evaluate the keep policy of `request` on a series or a snapshots file.

    Takes: the request, the current time (aware), and the catalog's series loader (None
    while there is no catalog). Returns: the retention result; nothing is deleted.
    Raises: ForgetError with a one-line message for every bad input (no source, both
    sources, no --dry-run, bad option values, unreadable or malformed file).
    """
    if request.series is not None and request.snapshots_file is not None:
        raise ForgetError("give either a SERIES or --snapshots FILE, not both")
    if request.series is not None and load_series is None:
        raise ForgetError(
            f"catalog not available yet: cannot list series {request.series!r}; "
            "use --snapshots FILE with --dry-run"
        )
    if request.series is None and request.snapshots_file is None:
        raise ForgetError("nothing to evaluate: give a SERIES or --snapshots FILE")
    if not request.dry_run:
        if request.snapshots_file is not None:
            raise ForgetError(
                "deleting snapshots needs a SERIES from the catalog; a --snapshots file "
                "can only be evaluated: add --dry-run"
            )
        raise ForgetError("forgetting a SERIES without --dry-run deletes: run it through "
                          "the command line")
    policy = build_policy(request)
    zone = _zone(request.timezone)
    if request.snapshots_file is not None:
        snapshots = load_snapshot_file(request.snapshots_file)
    elif request.series is not None and load_series is not None:
        snapshots = load_series(request.series)
    else:  # pragma: no cover - every other combination was refused above
        raise ForgetError("nothing to evaluate: give a SERIES or --snapshots FILE")
    try:
        return apply_policy(snapshots, policy, now=now, tz=zone)
    except ValueError as exc:
        raise ForgetError(str(exc)) from None


def build_policy(request: ForgetRequest) -> KeepPolicy:
    """Turn the --keep-* options into a KeepPolicy.

    `--keep-tag a,b` is one tag set (all of a and b); repeat the option for more sets.
    Raises: ForgetError naming the option when a value is invalid or no rule is given.
    """
    try:
        policy = KeepPolicy(
            last=request.keep_last,
            hourly=request.keep_hourly,
            daily=request.keep_daily,
            weekly=request.keep_weekly,
            monthly=request.keep_monthly,
            yearly=request.keep_yearly,
            within=request.keep_within,
            within_hourly=request.keep_within_hourly,
            within_daily=request.keep_within_daily,
            within_weekly=request.keep_within_weekly,
            within_monthly=request.keep_within_monthly,
            within_yearly=request.keep_within_yearly,
            tags=[[tag.strip() for tag in text.split(",")] for text in request.keep_tags],
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "policy"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ForgetError(f"{_OPTION_OF_FIELD.get(field, field)}: {message}") from None
    if policy.is_empty:
        raise ForgetError(
            "no keep rule given, so every snapshot but the newest would go: add "
            "--keep-last/-hourly/-daily/-weekly/-monthly/-yearly N, --keep-within DUR "
            "or --keep-tag TAGS"
        )
    return policy


def _zone(name: str | None) -> tzinfo | None:
    if name is None:
        return None
    from zoneinfo import ZoneInfo

    try:
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise ForgetError(
            f"--timezone: unknown timezone {name!r}; use an IANA name such as Europe/London"
        ) from None


def has_rules(request: ForgetRequest) -> bool:
    """True when any --keep-* option was given (they replace the policy's rules)."""
    defaults = ForgetRequest()
    return any(getattr(request, f) != getattr(defaults, f) for f in ForgetRequest.model_fields
               if f.startswith("keep_"))


def _prune(request: ForgetRequest, env: str | None, repositories: list[str],
           auto_approve: bool, as_json: bool, lock_timeout: float) -> None:
    from engine.commands.common import guarded
    from engine.commands.forget_prune import prune_series

    def run() -> None:
        try:
            keep = build_policy(request) if has_rules(request) else None
            zone = _zone(request.timezone)
        except ForgetError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise typer.Exit(1) from None
        assert request.series is not None
        prune_series(request.series, env=env, keep=keep, zone=zone, repositories=repositories,
                     auto_approve=auto_approve, as_json=as_json, dry_run=request.dry_run,
                     lock_timeout=lock_timeout)

    guarded(run)()


def forget_command(
    series: Annotated[
        str | None, typer.Argument(help="Backup series (policy) from the catalog.")
    ] = None,
    env: Annotated[str | None, typer.Option("--env", help="Environment folder for SERIES.")
                   ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show what would be kept and removed.")
    ] = False,
    snapshots: Annotated[
        Path | None,
        typer.Option("--snapshots", help="JSON list of {id, time, tags} to evaluate."),
    ] = None,
    keep_last: Annotated[int, typer.Option("--keep-last", help="Newest N snapshots.")] = 0,
    keep_hourly: Annotated[int, typer.Option("--keep-hourly", help="N hourly.")] = 0,
    keep_daily: Annotated[int, typer.Option("--keep-daily", help="N daily.")] = 0,
    keep_weekly: Annotated[int, typer.Option("--keep-weekly", help="N weekly.")] = 0,
    keep_monthly: Annotated[int, typer.Option("--keep-monthly", help="N monthly.")] = 0,
    keep_yearly: Annotated[int, typer.Option("--keep-yearly", help="N yearly (-1 all).")] = 0,
    keep_within: Annotated[
        str | None,
        typer.Option("--keep-within", help="All within DUR, e.g. 1y2m3d4h (m = months)."),
    ] = None,
    keep_within_hourly: Annotated[
        str | None, typer.Option("--keep-within-hourly", help="Hourly within DUR.")
    ] = None,
    keep_within_daily: Annotated[
        str | None, typer.Option("--keep-within-daily", help="Daily within DUR.")
    ] = None,
    keep_within_weekly: Annotated[
        str | None, typer.Option("--keep-within-weekly", help="Weekly within DUR.")
    ] = None,
    keep_within_monthly: Annotated[
        str | None, typer.Option("--keep-within-monthly", help="Monthly within DUR.")
    ] = None,
    keep_within_yearly: Annotated[
        str | None, typer.Option("--keep-within-yearly", help="Yearly within DUR.")
    ] = None,
    keep_tag: Annotated[
        list[str] | None, typer.Option("--keep-tag", help="Keep snapshots with all of a,b.")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option("--timezone", help="Take buckets in this zone.")
    ] = None,
    output_format: Annotated[ForgetFormat, typer.Option("--format")] = ForgetFormat.text,
    prune: Annotated[bool, typer.Option(
        "--prune", help="Delete the removed snapshots' data too (as restic's forget --prune; "
                        "a snapshot's data always goes with it).")] = False,
    repository: Annotated[list[str] | None, typer.Option(
        "--repository", help="Only this repository of the series (repeatable).")] = None,
    auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Do not ask.")] = False,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Show which snapshots a keep policy keeps and removes, and why; without --dry-run,
    delete them (the policy's own rules unless --keep-* are given).

    Examples:
      drydock backups forget --dry-run --snapshots snaps.json --keep-daily 7
      drydock backups forget apim-db --dry-run --env specs/prod
      drydock backups forget apim-db --prune --env specs/prod          (asks first)
      drydock backups forget apim-db --keep-last 5 --prune --auto-approve --format json
    """
    request = ForgetRequest(
        series=series,
        snapshots_file=snapshots,
        dry_run=dry_run,
        keep_last=keep_last,
        keep_hourly=keep_hourly,
        keep_daily=keep_daily,
        keep_weekly=keep_weekly,
        keep_monthly=keep_monthly,
        keep_yearly=keep_yearly,
        keep_within=keep_within,
        keep_within_hourly=keep_within_hourly,
        keep_within_daily=keep_within_daily,
        keep_within_weekly=keep_within_weekly,
        keep_within_monthly=keep_within_monthly,
        keep_within_yearly=keep_within_yearly,
        keep_tags=keep_tag or [],
        timezone=timezone,
        prune=prune,
    )
    from engine.commands.common import known_errors

    if series is not None and snapshots is None:
        _prune(request, env, repository or [], auto_approve,
               output_format is ForgetFormat.json, lock_timeout)
        return

    try:
        loader = None
        if series is not None:
            from engine.commands.backups import series_loader

            loader = series_loader(env)
        result = run_forget(request, now=clock_now(), load_series=loader)
    except (ForgetError, ClockError, *known_errors()) as exc:
        print(f"error: {str(exc).splitlines()[0]}", file=sys.stderr)
        raise typer.Exit(1) from None
    if output_format is ForgetFormat.json:
        sys.stdout.write(forget_report(result).model_dump_json(indent=2) + "\n")
    else:
        from rich.console import Console

        render_text(result, Console(highlight=False))
    print(
        f"dry run: {len(result.keep)} kept, {len(result.remove)} would be removed, "
        "nothing was deleted",
        file=sys.stderr,
    )
