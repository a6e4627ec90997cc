"""Read an environment directory from disk: its YAML files and the templates they name."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from engine.spec.errors import SpecError, SpecIssue
from engine.spec.models import Environment
from engine.spec.parse import locate, parse_environment
from engine.spec.sources import (
    MAX_SPEC_BYTES,
    MAX_TEMPLATE_BYTES,
    TemplatePathError,
    read_sources,
    read_template,
    spec_digest,
)
from engine.spec.yamlpos import Path_, Pos

__all__ = ["MAX_SPEC_BYTES", "MAX_TEMPLATE_BYTES", "LoadedSpec", "TemplatePathError",
           "load_spec", "read_sources", "read_template"]


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
    return LoadedSpec(env, directory.resolve(), tuple(s.name for s in sources),
                      spec_digest(sources, templates), templates, positions)
