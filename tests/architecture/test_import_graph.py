"""The import graph of engine/, providers/, state/, safefs/ and testkit/ has no cycle, and
the layers import only what they may.

Every import counts: top-level ones, those inside functions (a lazy import is still a
dependency) and type-only ones, read from the source with ast.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "providers", "state", "safefs", "testkit")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports anywhere in its source (under TYPE_CHECKING too:
    a type-only import is still a dependency of the design)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph() -> nx.DiGraph:
    mods = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(mods)
    for name, path in mods.items():
        for target in imported(name, path, set(mods)):
            if not name.startswith(target + "."):  # a module importing its own package
                graph.add_edge(name, target)
    return graph


def test_the_graph_covers_every_package() -> None:
    graph = import_graph()
    assert {n.split(".")[0] for n in graph} == set(PACKAGES)
    assert graph.has_edge("engine.refresh", "engine.contracts.provider")


def test_no_import_cycle() -> None:
    cycles = [" -> ".join([*c, c[0]]) for c in nx.simple_cycles(import_graph())]
    assert cycles == [], "import cycles:\n" + "\n".join(sorted(cycles)[:20])


# engine.wiring builds the registry; engine.wiring_memo hands the no-op plan memo the
# local transport alone (importing the provider interface would cost the shortcut its point).
COMPOSITION_ROOTS = ("engine.wiring", "engine.wiring_memo")


def test_the_engine_reaches_providers_only_through_the_composition_root() -> None:
    """Providers and the test kit (which drives real homes and databases) alike."""
    graph = import_graph()
    offenders = sorted(f"{a} -> {b}" for a, b in graph.edges
                       if a.startswith("engine.") and b.startswith(("providers", "testkit"))
                       and a not in COMPOSITION_ROOTS)
    assert offenders == []


def test_providers_import_only_the_contracts_and_the_spec_of_the_engine() -> None:
    graph = import_graph()
    # engine.secrets is the run-time resolver behind ActionContext.resolve_secret; a
    # repository's hmac_key is resolved through it when a manifest is signed or checked.
    # engine.killpoints is the crash-test hook long actions call between their steps.
    allowed = ("engine.contracts", "engine.spec", "engine.secrets", "engine.killpoints")
    offenders = sorted(f"{a} -> {b}" for a, b in graph.edges
                       if a.startswith("providers") and b.startswith("engine")
                       and not b.startswith(allowed))
    assert offenders == []


# The one boto3 client factory (explicit region, standard retries, endpoint resolution) is
# shared by the S3 state backend and the AWS providers; it imports nothing of the project.
SHARED_LEAVES = ("providers.aws.clients",)


def test_state_and_safefs_import_no_provider_and_no_engine_module() -> None:
    graph = import_graph()
    offenders = sorted(f"{a} -> {b}" for a, b in graph.edges
                       if a.startswith(("state", "safefs"))
                       and b.startswith(("providers", "engine", "testkit"))
                       and b not in SHARED_LEAVES)
    assert offenders == []
    for leaf in SHARED_LEAVES:
        assert not [b for a, b in graph.edges if a == leaf], f"{leaf} must import nothing"
