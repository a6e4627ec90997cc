"""Shared building blocks of the spec models: strict base model, names, durations, secrets."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, model_validator

from engine.spec.durations import format_duration, parse_duration

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
PATCH_ID_RE = re.compile(r"WSO2-CARBON-PATCH-(?P<kernel>[0-9.]+)-(?P<num>\d{4})")


class SpecModel(BaseModel):
    """Base of every spec section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]


class SecretRef(SpecModel):
    """A secret named, never written: `{env: NAME}` or `{file: PATH}`; resolved at run time."""

    env: str | None = None
    file: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference needs exactly one of 'env' or 'file'")
        return self

    def describe(self) -> str:
        """A safe description for plans and errors: `env:NAME` or `file:PATH`."""
        return f"env:{self.env}" if self.env is not None else f"file:{self.file}"


def check_name(value: str, what: str) -> str:
    """Raise ValueError when `value` is not a valid resource name."""
    if not NAME_RE.fullmatch(value):
        raise ValueError(
            f"{what} name {value!r} must start with a letter or digit and use only "
            "letters, digits, '.', '_' and '-'"
        )
    return value


def check_patch_id(value: str) -> str:
    """Raise ValueError unless `value` is `WSO2-CARBON-PATCH-<kernel>-<NNNN>` or `patchNNNN`."""
    if not (PATCH_ID_RE.fullmatch(value) or re.fullmatch(r"patch\d{4}", value)):
        raise ValueError(f"patch {value!r} is not of the form WSO2-CARBON-PATCH-<kernel>-<NNNN>")
    return value


JsonValue = Any
