"""The layers' import rules, read from the source (no imports run).

* ``server/`` uses the planner only through its face (``planner``), ``planner.errors``
  and ``planner.engine``;
* ``planner/`` knows nothing of the server, the bench or HTTP;
* only the bench (with ``bench.eval``) knows both layers: the server imports it only inside
  the ``bench`` and ``eval`` subcommands of its command line;
* the SDK (``clients/python``) imports neither.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_MAY_IMPORT = ("planner", "planner.errors", "planner.engine")


def imports(package: Path, *, lazy: bool = True) -> Iterator[tuple[str, int, str]]:
    """(file, line, module) for every absolute import under ``package`` (without those
    inside a function unless ``lazy``)."""
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        in_function = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            for inner in ast.walk(node)
            if inner is not node
        }
        for node in ast.walk(tree):
            if not lazy and id(node) in in_function:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                yield str(path.relative_to(ROOT)), node.lineno, name


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_server_uses_only_the_planners_face() -> None:
    deep = [
        f"{file}:{line} imports {name}"
        for file, line, name in imports(ROOT / "server")
        if _within(name, "planner")
        and name != "planner"
        and not any(_within(name, allowed) for allowed in SERVER_MAY_IMPORT[1:])
    ]
    assert not deep, "server/ reaches into planner internals:\n" + "\n".join(deep)


def test_the_planner_knows_no_server_and_no_http() -> None:
    banned = ("server", "bench", "fastapi", "starlette", "uvicorn", "httpx", "sse_starlette")
    found = [
        f"{file}:{line} imports {name}"
        for file, line, name in imports(ROOT / "planner")
        if any(_within(name, b) for b in banned)
    ]
    assert not found, "planner/ must not know HTTP or the layers above it:\n" + "\n".join(found)


def test_the_server_imports_the_bench_only_inside_its_bench_subcommand() -> None:
    every = [(f, name) for f, _, name in imports(ROOT / "server") if _within(name, "bench")]
    assert every, "server/cli.py no longer runs the bench: update this test"
    assert {f for f, _ in every} == {"server/cli.py"}
    eager = [name for _, _, name in imports(ROOT / "server", lazy=False)]
    assert not [name for name in eager if _within(name, "bench")]


def test_the_sdk_imports_neither_layer() -> None:
    found = [
        f"{file}:{line} imports {name}"
        for file, line, name in imports(ROOT / "clients" / "python")
        if any(_within(name, b) for b in ("planner", "server", "bench"))
    ]
    assert not found, "\n".join(found)


def test_the_planners_face_is_pinned() -> None:
    import planner

    assert sorted(planner.__all__) == sorted(
        [
            "DEFAULT_HORIZONS", "DEFAULT_TTL_SECONDS", "HORIZON_ORDER", "Candidate",
            "ChoiceEvent", "Comparison", "Fork",
            "ForkFound", "Horizon", "HorizonSnapshot", "Implicit", "ImplicitSummary", "NextTurn",
            "Plan", "PlanConfig", "PlanLimits", "PlanRequest", "PlanResult", "PlanStore",
            "PlanStored", "PlannedRequest", "Planner", "RolloutBudget", "RolloutView", "Score",
            "ScoreReady",
            "Snapshot", "SnapshotReady", "Stats", "TextDelta", "TokensToEnd", "TurnPrediction",
            "Unit", "open_store",
        ]
    )  # fmt: skip
    for name in planner.__all__:
        assert getattr(planner, name) is not None
