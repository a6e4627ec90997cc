"""`drydock state migrate --to BACKEND`: move the state and its history to another backend.

BACKEND is written the way the spec's `state:` block would be, in one of three forms:
``s3://BUCKET/KEY?region=REGION[&endpoint_url=URL]``, ``local:PATH`` (or a plain path;
relative to the spec folder), or the block itself as YAML/JSON:
``{backend: s3, bucket: B, key: K, region: R}``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs, urlsplit

import typer
import yaml
from pydantic import ValidationError

from engine.commands.common import (
    LockTimeout,
    err,
    fail,
    guarded,
    print_text,
    waiting_state,
    workspace,
)
from engine.spec.models import StateConfig
from engine.workspace import open_state
from state.migrate import migrate_state


def parse_backend(text: str) -> StateConfig:
    """The state block BACKEND names; raises ValueError saying the accepted forms.

    >>> parse_backend("s3://ops-state/prod.json?region=eu-west-1").key
    'prod.json'
    """
    text = text.strip()
    forms = ("write s3://BUCKET/KEY?region=REGION, local:PATH or "
             "'{backend: s3, bucket: B, key: K, region: R}'")
    if text.startswith("{"):
        try:
            return StateConfig.model_validate(yaml.safe_load(text))
        except (yaml.YAMLError, ValidationError) as exc:
            why = " ".join(str(exc).split())[:200]
            raise ValueError(f"--to {text!r} is not a state block ({why}); {forms}") from None
    if text.startswith("s3://"):
        url = urlsplit(text)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        unknown = sorted(set(query) - {"region", "endpoint_url"})
        key = url.path.lstrip("/")
        if not url.netloc or not key or "region" not in query or unknown:
            why = (f"unknown {', '.join(unknown)}" if unknown
                   else "it needs a bucket, key and region")
            raise ValueError(f"--to {text!r}: {why}; {forms}")
        return StateConfig(backend="s3", bucket=url.netloc, key=key, region=query["region"],
                           endpoint_url=query.get("endpoint_url"))
    path = text.removeprefix("local:")
    if not path or "://" in path:
        raise ValueError(f"--to {text!r} is not a backend; {forms}")
    return StateConfig(backend="local", path=path)


def state_block(cfg: StateConfig) -> str:
    """The spec's `state:` line for `cfg`."""
    values = cfg.model_dump(exclude_none=True)
    return "state: {" + ", ".join(f"{k}: {v}" for k, v in values.items()) + "}"


@guarded
def migrate(
    to: Annotated[str, typer.Option("--to", help="Where the state goes: "
                                    "s3://BUCKET/KEY?region=R, local:PATH or a state block.")],
    env: Annotated[str | None, typer.Option("--env", help="Environment folder (default: .)")
                   ] = None,
    lock_timeout: LockTimeout = 0.0,
) -> None:
    """Move the state and its whole history to another backend, both locks held.

    The lineage and serials stay; a destination holding another lineage is refused. The
    old location is kept: point the spec's `state:` at the new one afterwards.

    Example: drydock state migrate --to 's3://ops-state/prod.json?region=eu-west-1'
    """
    ws = workspace(env, lock_timeout=lock_timeout)
    try:
        cfg = parse_backend(to)
        dest, _journal = open_state(ws.spec, cfg)
    except ValueError as exc:
        fail(str(exc))
    done = migrate_state(ws.state, waiting_state(dest, lock_timeout))
    if not done.written:
        err.print(f"state {done.destination} already holds serial {done.serial} of lineage "
                  f"{done.lineage}; nothing written")
    else:
        err.print(f"moved state serial {done.serial} (lineage {done.lineage}) and "
                  f"{done.versions} kept version(s) from {done.source} to {done.destination}")
    print_text(f"Point the spec at it:\n  {state_block(cfg)}\n")
