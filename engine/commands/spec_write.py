"""Write spec edits back to the spec files: every file rewritten in memory first, then
each replaced atomically, so a failure leaves every file as it was."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from engine.spec.loader import LoadedSpec
from engine.spec.rewrite import YamlEdit, rewrite
from safefs.atomicfile import write_atomic


def spec_file(spec: LoadedSpec, shown: str) -> Path:
    """The file of the spec folder that `shown` (a name as the loader reports it) is."""
    return spec.directory / Path(shown).name


def write_spec_edits(spec: LoadedSpec, edits: Mapping[str, Sequence[YamlEdit]]) -> list[Path]:
    """Apply `edits` (per file as the loader names it) keeping comments and layout.

    Returns the files changed. Raises RewriteError (a file that cannot be edited, nothing
    written) or OSError.
    """
    new: dict[Path, tuple[str, int]] = {}
    for shown, file_edits in sorted(edits.items()):
        path = spec_file(spec, shown)
        text = path.read_text(encoding="utf-8")
        out = rewrite(text, list(file_edits), name=shown)
        if out != text:
            new[path] = (out, path.stat().st_mode & 0o777)
    for path, (text, mode) in new.items():
        write_atomic(path, text.encode("utf-8"), mode=mode)
    return sorted(new)
