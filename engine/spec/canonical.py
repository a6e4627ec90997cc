"""The canonical layout of a spec file (pure): what `drydock fmt` writes.

A ruamel.yaml round trip keeps comments, key order, quoting and flow collections as they
are written, and normalises the rest: two-space mappings, block sequences indented under
their key (`  - item`), one space after `:` and `-`, no trailing blanks, one final
newline, no re-wrapping of long lines. The result must mean exactly what the input meant
to drydock's own loader, or the file is left alone with an error.
"""

from __future__ import annotations

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from engine.spec.errors import SpecIssue
from engine.spec.yamlpos import SpecSyntaxError, parse_yaml


class FormatError(ValueError):
    """A file that cannot be formatted; `issue` says where and why."""

    def __init__(self, issue: SpecIssue) -> None:
        self.issue = issue
        super().__init__(str(issue))


class _Collected(list[str]):
    """The text ruamel.yaml writes, collected in memory (a stream without the io module)."""

    def write(self, text: str | bytes) -> None:
        """Keep one written piece (ruamel.yaml hands bytes, UTF-8, to a non-text stream)."""
        self.append(text.decode("utf-8") if isinstance(text, bytes) else text)


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _meaning(name: str, text: str) -> object:
    try:
        return parse_yaml(name, text).data
    except SpecSyntaxError as exc:
        raise FormatError(exc.issues[0]) from None


def canonical_yaml(name: str, text: str) -> str:
    """`text` (the file `name`) in the canonical layout.

    Raises FormatError for YAML drydock cannot read, or when the layout would change what
    the file means.
    """
    before = _meaning(name, text)
    if not text.strip():
        return ""
    yaml = _yaml()
    try:
        document = yaml.load(text)
        out = _Collected()
        yaml.dump(document, out)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise FormatError(SpecIssue(name, line, col, f"cannot format: {exc}")) from None
    formatted = "\n".join(line.rstrip() for line in "".join(out).splitlines()) + "\n"
    if _meaning(name, formatted) != before:
        raise FormatError(SpecIssue(name, 1, 1, "cannot format without changing what it "
                                                "means; fix its layout by hand"))
    return formatted
