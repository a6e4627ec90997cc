"""Read an environment directory from disk: its YAML files and the templates they name."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from engine.spec.errors import SpecError, SpecIssue
from engine.spec.models import Environment
from engine.spec.parse import SourceFile, parse_environment
from engine.spec.yamlpos import Path_, Pos


@dataclass(frozen=True)
class LoadedSpec:
    """A validated environment, where it came from, and a digest of every input byte."""

    env: Environment
    directory: Path
    files: tuple[str, ...]
    digest: str
    templates: dict[str, str] = field(default_factory=dict)

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
    for p in paths:
        try:
            out.append(SourceFile(_display(p), p.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError([SpecIssue(_display(p), 1, 1, f"cannot read: {exc}")]) from exc
    return out


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def load_spec(directory: Path) -> LoadedSpec:
    """Load and validate an environment folder, with the config templates it references.

    Raises SpecError with every problem (FILE:LINE:COL) when anything is wrong.
    """
    sources = read_sources(directory)
    positions: dict[Path_, Pos] = {}
    env = parse_environment(sources, positions)
    templates: dict[str, str] = {}
    issues: list[SpecIssue] = []
    for sname, server in env.servers.items():
        for target, cfg in server.config.items():
            if cfg.template is None or cfg.template in templates:
                continue
            tpath = Path(cfg.template)
            full = tpath if tpath.is_absolute() else directory / tpath
            try:
                templates[cfg.template] = full.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                where = positions.get(("servers", sname, "config", target, "template"),
                                      Pos(sources[0].name, 1, 1))
                reason = getattr(exc, "strerror", None) or str(exc)
                issues.append(SpecIssue(where.file, where.line, where.col,
                                        f"template {cfg.template} cannot be read ({reason}); "
                                        "paths are relative to the spec folder"))
    if issues:
        raise SpecError(issues)
    digest = hashlib.sha256()
    for s in sources:
        digest.update(f"{Path(s.name).name}\0{s.text}\0".encode())
    for name in sorted(templates):
        digest.update(f"{name}\0{templates[name]}\0".encode())
    return LoadedSpec(env, directory.resolve(), tuple(s.name for s in sources),
                      "sha256:" + digest.hexdigest(), templates)
