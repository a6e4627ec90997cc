"""Secret tokens in rendered files (pure)."""

from __future__ import annotations

from engine.spec.common import SecretRef
from engine.spec.secret_tokens import mask, mask_like, refs_in, substitute, tokenize


def test_references_become_tokens_anywhere_in_vars() -> None:
    vars_ = {"a": {"env": "X"}, "b": [{"file": "s.txt"}], "c": {"env": "X", "other": 1}}
    assert tokenize(vars_) == {"a": "((secret:env:X))", "b": ["((secret:file:s.txt))"],
                               "c": {"env": "X", "other": 1}}


def test_tokens_are_found_resolved_and_values_masked() -> None:
    text = "p = ((secret:env:X))\nq = ((secret:file:s.txt)) ((secret:env:X))\n"
    assert [r.describe() for r in refs_in(text)] == ["env:X", "file:s.txt"]
    values = {"env:X": "hunter2", "file:s.txt": "s3"}
    real = substitute(text, lambda r: values[r.describe()])
    assert real == "p = hunter2\nq = s3 hunter2\n"
    assert mask(real, values.values()) == "p = (secret)\nq = (secret) (secret)\n"
    assert refs_in("plain") == [] and SecretRef(env="X").describe() == "env:X"


def test_lines_shaped_like_the_template_are_masked_even_for_unknown_values() -> None:
    template = 'user = "apim"\npassword = "((secret:env:X))"\n'
    observed = 'user = "root"\npassword = "an-old-password"\n'
    assert mask_like(observed, template) == 'user = "root"\npassword = "(secret)"\n'
