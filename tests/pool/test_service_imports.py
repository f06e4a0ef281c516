"""The services import each other without a cycle: each module's imports (at any depth of the
file, function-level ones included) form a graph over pool/services/*.py with no loop. A cycle
is how "stores, decides and answers in one file" shows first (authenticate <-> mfa did)."""

from __future__ import annotations

import ast
from pathlib import Path

import pool.services

PACKAGE = "pool.services"
SERVICES_DIR = Path(pool.services.__file__).parent


def _service_modules() -> set[str]:
    return {path.stem for path in SERVICES_DIR.glob("*.py") if path.stem != "__init__"}


def _imported_services(path: Path, services: set[str]) -> set[str]:
    """The sibling service modules `path` imports, however it spells the import."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[:2] == ["pool", "services"] and len(parts) > 2:
                    found.add(parts[2])
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: "from . import x" / "from .x import y"
                base = node.module.split(".")[0] if node.module else None
                found.update([base] if base else (alias.name for alias in node.names))
            elif node.module == PACKAGE:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith(PACKAGE + "."):
                found.add(node.module.split(".")[2])
    return (found & services) - {path.stem}


def import_graph() -> dict[str, set[str]]:
    services = _service_modules()
    return {name: _imported_services(SERVICES_DIR / f"{name}.py", services) for name in services}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None (depth-first search with colours)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_sees_every_spelling_of_an_import():
    """The checker itself: a cycle hidden in a function-level import is found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_reads_the_services_imports():
    graph = import_graph()
    assert "tokens" in graph["passwords"]
    assert "challenges" in graph["mfa"]


def test_pool_services_import_each_other_without_a_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle in pool/services: " + " -> ".join(cycle or [])
