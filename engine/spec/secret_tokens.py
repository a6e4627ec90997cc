"""Secrets inside rendered files: stand-in tokens in plans, real values only when written.

A template variable given as a secret reference (`{env: NAME}` or `{file: PATH}`) renders
as a token `((secret:env:NAME))`. Plans, digests, diffs and the state only ever see the
token; a provider substitutes the resolved value when it writes or compares the file, and
masks resolved values in anything it reads back for display.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from engine.spec.common import SecretRef

TOKEN = re.compile(r"\(\(secret:(env|file):([^()\s]+)\)\)")
MASK = "(secret)"


def token_for(ref: SecretRef) -> str:
    """The token a reference renders as."""
    return f"((secret:env:{ref.env}))" if ref.env is not None else f"((secret:file:{ref.file}))"


def _as_ref(value: Any) -> SecretRef | None:
    if isinstance(value, dict) and len(value) == 1 and set(value) <= {"env", "file"}:
        (key, name), = value.items()
        if isinstance(name, str) and name:
            return SecretRef(**{key: name})
    return None


def tokenize(value: Any) -> Any:
    """Replace every secret reference inside nested vars by its token (pure)."""
    ref = _as_ref(value)
    if ref is not None:
        return token_for(ref)
    if isinstance(value, dict):
        return {k: tokenize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tokenize(v) for v in value]
    return value


def refs_in(text: str) -> list[SecretRef]:
    """The secret references whose tokens appear in `text`, in order, without repeats."""
    seen: dict[str, SecretRef] = {}
    for kind, name in TOKEN.findall(text):
        seen.setdefault(f"{kind}:{name}", SecretRef(**{kind: name}))
    return list(seen.values())


def substitute(text: str, resolve: Callable[[SecretRef], str]) -> str:
    """`text` with every token replaced by its resolved value."""
    return TOKEN.sub(lambda m: resolve(SecretRef(**{m.group(1): m.group(2)})), text)


def mask(text: str, values: Iterable[str]) -> str:
    """`text` with every occurrence of the given secret values replaced by `(secret)`."""
    for value in sorted({v for v in values if v}, key=len, reverse=True):
        text = text.replace(value, MASK)
    return text


def mask_like(text: str, template: str) -> str:
    """Mask, in `text`, whatever stands where `template` (desired text) has a token.

    Each desired line holding tokens becomes a pattern (the line's other text literal,
    each token any text); an observed line matching it has those parts replaced by
    `(secret)`. This hides secrets the resolver no longer knows (a rotated password still
    written in the file) as long as the line around them is recognisable.
    """
    patterns = []
    for line in template.splitlines():
        if not TOKEN.search(line):
            continue
        parts = TOKEN.split(line)
        literal = parts[0::3]
        patterns.append((re.compile("^" + "(.*?)".join(re.escape(p) for p in literal) + "$"),
                         literal))
    if not patterns:
        return text
    out = []
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\n")
        for pattern, literal in patterns:
            if pattern.match(body):
                body = MASK.join(literal)
                break
        out.append(body + line[len(line.rstrip("\n")):])
    return "".join(out)
