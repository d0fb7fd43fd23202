"""The SDK's public surface is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import inspect
import subprocess
import sys

import foresight_client as fc
import foresight_client.terminal as terminal
from pydantic import BaseModel

PUBLIC = [
    "ROW_FIELDS", "APIConnectionError", "APIError", "APIResponseValidationError",
    "APITimeoutError", "AsyncChatStream", "AsyncClient", "AsyncPlans", "AuthenticationError",
    "BadRequestError", "Candidate", "ChatChoice", "ChatCompletion", "ChatMessage", "ChatStream",
    "Client", "Comparison", "Completion", "CompletionChoice", "ConflictError", "Consensus",
    "ConsensusTerm", "ForesightError",
    "Fork", "ForkEvent", "Health", "HorizonSnapshot", "Implicit", "ImplicitSummary",
    "InternalServerError", "ModelCard", "NextTurn", "NotFoundError", "OverloadedError",
    "PermissionDeniedError", "Plan", "PlanConfig", "PlanDeleted", "PlanEvent", "PlanOptions",
    "PlanRow", "PlanStats", "Plans", "RateLimitError", "ReliabilityBin", "RolloutView",
    "Score", "ScoreEvent", "Snapshot", "SnapshotEvent", "StreamEvent", "TextDelta", "TokensToEnd",
    "TurnPrediction", "Unit", "Usage", "UsageEvent", "__version__", "plan_rows", "plan_to_json",
]  # fmt: skip


def test_all_is_pinned() -> None:
    assert fc.__all__ == PUBLIC
    assert terminal.__all__ == ["ChatSession", "TurnView", "main", "run_chat"]
    for name in fc.__all__:
        assert hasattr(fc, name), name


def test_public_classes_and_functions_have_docstrings() -> None:
    for name in fc.__all__:
        obj = getattr(fc, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_every_response_field_is_documented() -> None:
    models = [getattr(fc, n) for n in fc.__all__ if inspect.isclass(getattr(fc, n))]
    models = [m for m in models if issubclass(m, BaseModel)]
    assert len(models) > 20
    for model in models:
        for field, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{field} has no docstring"


def test_sync_and_async_clients_mirror_each_other() -> None:
    def surface(cls: type) -> dict[str, list[str]]:
        return {
            name: list(inspect.signature(fn).parameters)
            for name, fn in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_") and name != "close"
        }

    assert surface(fc.Client) == surface(fc.AsyncClient)
    assert set(surface(fc.Client)) == {"chat", "stream_chat", "complete", "models", "health"}
    assert surface(fc.Plans) == surface(fc.AsyncPlans)
    assert set(surface(fc.Plans)) == {"get", "list", "delete", "analyze"}
    assert inspect.iscoroutinefunction(fc.AsyncClient.chat)
    assert not inspect.iscoroutinefunction(fc.AsyncClient.stream_chat)  # `async with` it


def test_importing_the_sdk_pulls_in_neither_rich_nor_the_server() -> None:
    # httpx itself imports rich when it is installed (for its own CLI): compare with it.
    code = (
        "import sys, httpx, pydantic; before = set(sys.modules); import foresight_client; "
        "print(sorted({m.split('.')[0] for m in set(sys.modules) - before} - {'foresight_client'})"
        " + [m for m in sys.modules if m.startswith('foresight_client.terminal')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    added = out.stdout.strip()
    for heavy in ("rich", "server", "planner", "torch", "vllm", "foresight_client.terminal"):
        assert f"'{heavy}'" not in added, added
