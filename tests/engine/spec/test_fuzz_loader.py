"""Fuzzing the spec loader: generated and mutated YAML never ends in anything but SpecError.

Examples are bounded (and derandomized) so this runs in seconds in `make test`; raise
FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.desired import build_desired
from engine.spec.errors import SpecError
from engine.spec.loader import LoadedSpec
from engine.spec.parse import SourceFile, parse_environment

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

VALID = """\
environment: t
vars: {world: w, n: 3}
sites: {primary: {}, dr: {}}
hosts:
  node-a: {site: primary, root: "{{ world }}/a"}
products:
  wso2am-4.2.0: {pack: p.zip, updates: u, patches: p}
servers:
  gw-1:
    host: node-a
    product: wso2am-4.2.0
    home: opt/gw-1
    update_level: 14
    patches: [WSO2-CARBON-PATCH-4.9.0-0001]
    config:
      repository/conf/deployment.toml:
        content: "offset = {{ n }}\\nhost = ${carbon.host}\\n"
        mode: "0640"
        whitespace: ansible
databases:
  apim_db: {engine: sqlite, path: db.sqlite}
repositories:
  vault: {site: primary, type: local, path: b}
backups:
  apim-db: {source: {database: apim_db}, every: 24h, keep: {last: 3}, repository: vault}
drills:
  apim-db-restore:
    backup: apim-db
    every: 30d
    into: {database: {engine: sqlite, path: s.db}}
    verify: [{sql: "SELECT 1", expect: "= 1"}]
"""

# pieces an attacker (or a typo) puts into YAML
TOKENS = ["&a ", "*a", "<<: *a", "!!python/object:os.system ", "!!timestamp ", "!!binary ",
          "!x ", "[", "]", "{", "}", ": ", "- ", "\n", "  ", "\t", "'", '"', "#", "---\n",
          "? ", "|\n", ">\n", "{{ 1/0 }}", "{{ x }}", "{% for %}", "../", "/etc", "\\",
          "\x00", "9" * 30, "-1", "0777", ".inf", "~", "yes", "%", "@", "`", "\ufeff", "é"]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = VALID
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(TOKENS) | st.text(max_size=4))
        end = min(len(text), at + draw(st.integers(0, 12)))
        if kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[end:]
        else:
            text = text[:at] + piece + text[end:]
    return text


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | \
    st.text(max_size=12) | st.sampled_from(["{{ world }}", "../x", "/etc", "0640", "24h"])
TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) |
                     st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20)


@st.composite
def generated(draw: st.DrawFn) -> str:
    """A spec whose sections hold generated data, dumped as YAML."""
    doc = yaml.safe_load(VALID)
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(sorted(doc)))
        target = doc[section]
        if isinstance(target, dict) and target and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(target)))
            target[key] = draw(TREES)
        else:
            doc[section] = draw(TREES)
    return yaml.safe_dump(doc, allow_unicode=True)


def check(text: str) -> None:
    try:
        env = parse_environment([SourceFile("s.yaml", text)])
        build_desired(LoadedSpec(env, Path("/spec"), ("s.yaml",), "sha256:x", {}))
    except SpecError as exc:
        assert exc.issues, "a SpecError lists its problems"
        for issue in exc.issues:
            line = str(issue)
            assert "\n" not in line and line.startswith("s.yaml:"), line


def test_the_valid_document_is_valid() -> None:
    check(VALID)
    parse_environment([SourceFile("s.yaml", VALID)])


@FUZZ
@given(mutated())
def test_mutated_documents(text: str) -> None:
    check(text)


@FUZZ
@given(generated())
def test_generated_documents(text: str) -> None:
    check(text)


@FUZZ
@given(st.lists(st.sampled_from(TOKENS + list("abc:-0 \n")), max_size=40).map("".join))
def test_token_soup(text: str) -> None:
    check(text)
