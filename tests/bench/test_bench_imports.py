"""Only the benchmark knows both layers: the planner imports neither ``bench`` nor ``server``,
and the server imports ``bench`` only inside the ``bench`` subcommand of its command line."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> Iterator[tuple[str, bool]]:
    """(imported module, whether the import sits inside a function) for each import."""
    tree = ast.parse(path.read_text(), filename=str(path))
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name, id(node) in inside


def _top(name: str) -> str:
    return name.split(".")[0]


def test_the_planner_imports_neither_the_bench_nor_the_server() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "planner").rglob("*.py"))
        for name, _ in _imports(path)
        if _top(name) in ("bench", "server")
    ]
    assert found == []


def test_the_server_imports_the_bench_only_inside_its_bench_subcommand() -> None:
    found = [
        (str(path.relative_to(ROOT)), name, lazy)
        for path in sorted((ROOT / "server").rglob("*.py"))
        for name, lazy in _imports(path)
        if _top(name) == "bench"
    ]
    assert found, "server/cli.py no longer runs the bench: update this test"
    assert all(where == "server/cli.py" and lazy for where, _, lazy in found), found
