"""Read an environment directory from disk: its YAML files and the templates they name."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine.spec.errors import SpecError, SpecIssue
from engine.spec.models import Environment
from engine.spec.parse import SourceFile, locate, parse_environment
from engine.spec.yamlpos import Path_, Pos

MAX_TEMPLATE_BYTES = 1 << 20
MAX_SPEC_BYTES = 64 << 20


@dataclass(frozen=True)
class LoadedSpec:
    """A validated environment, where it came from, and a digest of every input byte."""

    env: Environment
    directory: Path
    files: tuple[str, ...]
    digest: str
    templates: dict[str, str] = field(default_factory=dict)
    positions: dict[Path_, Pos] = field(default_factory=dict, repr=False, compare=False)

    def where(self, path: Path_) -> Pos:
        """The file position of a key path, or of the nearest enclosing one known."""
        fallback = Pos(self.files[0] if self.files else str(self.directory), 1, 1)
        return locate(self.positions, path, fallback)

    def shown(self, name: str) -> str:
        """A spec-relative file (a template) as errors show it, beside the spec files."""
        if self.files:
            return str(Path(self.files[0]).parent / name)
        return str(self.directory / name)

    def path(self, value: str) -> Path:
        """Resolve a path from the spec: relative paths are relative to the spec directory."""
        p = Path(value)
        return p if p.is_absolute() else (self.directory / p)


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


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Parsing makes hundreds of thousands of objects and no reference cycles; the cycle
    collector would re-scan them over and over (a third of the time at 10,000 servers)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


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


def load_spec(directory: Path) -> LoadedSpec:
    """Load and validate an environment folder, with the config templates it references.

    Raises SpecError with every problem (FILE:LINE:COL) when anything is wrong.
    """
    sources = read_sources(directory)
    positions: dict[Path_, Pos] = {}
    with _no_gc_pauses():
        env = parse_environment(sources, positions)
    templates: dict[str, str] = {}
    issues: list[SpecIssue] = []
    root = directory.resolve()
    for sname, server in env.servers.items():
        for target, cfg in server.config.items():
            if cfg.template is None or cfg.template in templates:
                continue
            try:
                templates[cfg.template] = read_template(root, cfg.template)
            except TemplatePathError as exc:
                where = positions.get(("servers", sname, "config", target, "template"),
                                      Pos(sources[0].name, 1, 1))
                issues.append(SpecIssue(where.file, where.line, where.col, str(exc)))
    if issues:
        raise SpecError(issues)
    digest = hashlib.sha256()
    for s in sources:
        digest.update(f"{Path(s.name).name}\0{s.text}\0".encode())
    for name in sorted(templates):
        digest.update(f"{name}\0{templates[name]}\0".encode())
    return LoadedSpec(env, directory.resolve(), tuple(s.name for s in sources),
                      "sha256:" + digest.hexdigest(), templates, positions)
