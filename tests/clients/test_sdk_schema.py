"""The SDK's plan models against the server's published schema (``/openapi.json``), field
by field, so the two cannot drift apart. Builds the app without starting an engine."""

from __future__ import annotations

from typing import Any

import foresight_client as fc
import pytest
from pydantic import BaseModel

from planner.engine.config import EngineConfig
from server.app import create_app
from server.config import ServerConfig

# SDK model → the schema the server publishes for it.
PAIRS: dict[type[BaseModel], str] = {
    fc.Candidate: "Candidate",
    fc.TokensToEnd: "TokensToEnd",
    fc.Implicit: "Implicit",
    fc.HorizonSnapshot: "HorizonSnapshot",
    fc.RolloutView: "RolloutView",
    fc.Snapshot: "Snapshot",
    fc.Unit: "Unit",
    fc.Score: "Score",
    fc.Comparison: "Comparison",
    fc.Consensus: "Consensus",
    fc.ConsensusTerm: "ConsensusTerm",
    fc.ReliabilityBin: "ReliabilityBin",
    fc.Fork: "Fork",
    fc.PlanStats: "Stats",
    fc.ImplicitSummary: "ImplicitSummary",
    fc.TurnPrediction: "TurnPrediction",
    fc.NextTurn: "NextTurn",
    fc.PlanConfig: "PlanConfig",
    fc.Plan: "PlanResult",
}


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = tmp_path_factory.mktemp("schema") / "plans.db"
    config = ServerConfig(engine=EngineConfig(model="unused/model-id"), store=f"sqlite:///{store}")
    spec = create_app(config).openapi()
    found: dict[str, Any] = spec["components"]["schemas"]
    return found


@pytest.mark.parametrize("sdk_model", list(PAIRS), ids=lambda m: m.__name__)
def test_the_sdk_model_has_exactly_the_servers_fields(
    sdk_model: type[BaseModel], schemas: dict[str, Any]
) -> None:
    server = schemas[PAIRS[sdk_model]]
    assert set(sdk_model.model_fields) == set(server["properties"])


def test_every_plan_schema_is_covered_and_documented(schemas: dict[str, Any]) -> None:
    """Every model reachable from the plan has an SDK twin, and every plan field a
    description, so `/openapi.json` documents the plan."""
    reachable: set[str] = set()

    def walk(name: str) -> None:
        if name in reachable:
            return
        reachable.add(name)
        for ref in _refs(schemas[name]):
            walk(ref)

    walk("PlanResult")
    assert reachable == set(PAIRS.values())
    undocumented = [
        f"{name}.{field}"
        for name in sorted(reachable)
        for field, prop in schemas[name]["properties"].items()
        if "description" not in prop and "$ref" not in str(prop)
    ]
    assert not undocumented


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else []
        for value in node.values():
            out += _refs(value)
        return out
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []
