"""Read an environment folder's input bytes: its YAML files, the templates they name, and
the digest of both (cheap to import: no parser, no models).

The loader parses what this reads; the no-op plan memo (`engine/plan_memo`) re-reads the
same bytes and compares digests without parsing them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.spec.errors import SpecError, SpecIssue

MAX_TEMPLATE_BYTES = 1 << 20
MAX_SPEC_BYTES = 64 << 20


@dataclass(frozen=True)
class SourceFile:
    """One spec file: its display name (relative path) and its text."""

    name: str
    text: str


def read_sources(directory: Path) -> list[SourceFile]:
    """Read every `*.yaml`/`*.yml` in `directory` (not recursive), sorted by name."""
    if not directory.is_dir():
        raise SpecError([SpecIssue(
            str(directory), 1, 1, "not a directory; pass the environment folder, e.g. specs/demo")])
    paths = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
    if not paths:
        raise SpecError([SpecIssue(str(directory), 1, 1,
                                   "no *.yaml files here; is this an environment folder?")])
    out = []
    root = directory.resolve()
    for p in paths:
        try:
            out.append(SourceFile(_display(p), _read_source(root, p)))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise SpecError([SpecIssue(_display(p), 1, 1, f"cannot read: {exc}")]) from None
    return out


def _read_source(root: Path, path: Path) -> str:
    """A spec file's text: a regular file inside the spec folder, at most MAX_SPEC_BYTES."""
    full = path.resolve()
    if not full.is_relative_to(root):
        raise ValueError("it links outside the spec folder")
    if not full.is_file():
        raise ValueError("not a regular file")
    with full.open("rb") as handle:
        data = handle.read(MAX_SPEC_BYTES + 1)
    if len(data) > MAX_SPEC_BYTES:
        raise ValueError(f"larger than {MAX_SPEC_BYTES >> 20} MiB")
    return data.decode("utf-8")


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class TemplatePathError(ValueError):
    """A config template that cannot be used: outside the spec folder, not a file, unreadable."""


def read_template(root: Path, name: str) -> str:
    """The text of template `name`, which must resolve (symlinks followed) to a regular
    file inside the spec folder `root` and hold at most MAX_TEMPLATE_BYTES of UTF-8.

    Raises TemplatePathError saying why not.
    """
    try:
        full = (root / name).resolve()
    except (OSError, ValueError) as exc:  # a NUL byte, a symlink loop
        raise TemplatePathError(f"template {name!r} cannot be used ({exc})") from None
    if not full.is_relative_to(root):
        raise TemplatePathError(f"template {name!r} resolves outside the spec folder; "
                                "templates must live inside it")
    if full.exists() and not full.is_file():
        raise TemplatePathError(f"template {name} is not a regular file")
    try:
        with full.open("rb") as handle:
            data = handle.read(MAX_TEMPLATE_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise TemplatePathError(f"template {name} cannot be read ({reason}); "
                                "paths are relative to the spec folder") from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplatePathError(f"template {name} is larger than {MAX_TEMPLATE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TemplatePathError(f"template {name} is not UTF-8 text ({exc.reason} at byte "
                                f"{exc.start})") from None


def spec_digest(sources: Iterable[SourceFile], templates: Mapping[str, str]) -> str:
    """`sha256:<hex>` of every input byte: each spec file's name and text, then each
    template's name and text (sorted by name)."""
    digest = hashlib.sha256()
    for s in sources:
        digest.update(f"{Path(s.name).name}\0{s.text}\0".encode())
    for name in sorted(templates):
        digest.update(f"{name}\0{templates[name]}\0".encode())
    return "sha256:" + digest.hexdigest()
