"""The server's rollout budget (--rollout-budget) over HTTP: shared by concurrent plans,
degraded snapshots marked in the API and counted in /metrics, every share given back."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import openai
from markov_engine import MarkovEngine
from markov_server import BASE_URL, markov_config, serve, wait_ready
from test_health_metrics import metric

from planner import PlanLimits

MESSAGES = [{"role": "user", "content": " Yes."}]
PLAN = {"horizons": ["sentence", "turn"], "max_lookahead_tokens": 12, "clustering": "text"}


async def test_plans_share_the_budget_and_give_it_back(tmp_path: Path) -> None:
    config = dataclasses.replace(
        markov_config(tmp_path / "plans.db"), plan_limits=PlanLimits(rollout_budget=4)
    )
    engine = MarkovEngine(step_delay=0.0005)
    async with serve(config, lambda: engine) as (app, http):
        await wait_ready(http, app)
        sdk = openai.AsyncOpenAI(
            base_url=f"{BASE_URL}/v1",
            api_key="unused",
            max_retries=0,
            http_client=http,  # type: ignore[arg-type]
        )
        budget = app.state.planner.budget
        before = (await http.get("/metrics")).text

        async def planned(rollouts: int, seed: int) -> dict[str, Any]:
            r = await sdk.chat.completions.create(
                model=engine.model_name,
                messages=MESSAGES,
                max_tokens=40,
                seed=seed,
                extra_body={"plan": {**PLAN, "rollouts": rollouts, "pace": "text"}},
            )
            return dict((r.choices[0].model_extra or {})["plan"])

        big, small = await asyncio.gather(planned(16, 1), planned(2, 2))
        after = (await http.get("/metrics")).text

    assert all(not s["degraded"] and s["rollouts_used"] == 2 for s in small["snapshots"])
    degraded = [s for s in big["snapshots"] if s["degraded"]]
    assert degraded, "K = 16 asks for 8 slots of a budget of 4"
    for s in big["snapshots"]:
        assert s["rollouts_asked"] == 16 and s["degraded"] == (s["rollouts_used"] < 16)
    name = "foresight_plan_degraded_snapshots_total"
    assert metric(after, name) - metric(before, name) == len(degraded)
    name = "foresight_rollout_shortfall_total"
    assert metric(after, name) - metric(before, name) == sum(
        16 - s["rollouts_used"] for s in degraded
    )
    assert metric(after, "foresight_rollout_budget_slots") == 4
    for gauge in ("in_use", "asked", "plans"):
        assert metric(after, f"foresight_rollout_budget_{gauge}") == 0, gauge
    assert (budget.plans, budget.in_use) == (0, 0)
