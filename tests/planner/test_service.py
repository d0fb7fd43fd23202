"""The planner's face on the synthetic engine and a real SQLite store: id claims, the
previous turn's score, and what a failed request leaves behind."""

from __future__ import annotations

import asyncio
import math
from itertools import pairwise
from pathlib import Path

import pytest
from markov_engine import EOS, TRANSITIONS, USER, MarkovEngine

from planner import Planner, PlanRequest, PlanResult, PlanStored, TextDelta, open_store
from planner.config import PlanLimits
from planner.engine.protocol import Sampling
from planner.errors import InvalidRequestError
from planner.evaluation import Match

USER_MSG = [{"role": "user", "content": " Yes."}]


@pytest.fixture
async def planner(tmp_path: Path) -> Planner:
    store = open_store(f"sqlite:///{tmp_path}/plans.db")
    p = Planner(store, PlanLimits())
    yield p  # type: ignore[misc]
    await p.close()


def request(**fields: object) -> PlanRequest:
    values: dict[str, object] = {
        "horizons": ("sentence", "turn", "user"),
        "rollouts": 4,
        "refresh": 4,
        "max_lookahead_tokens": 12,
        "clustering": "text",
        "refresh_every": {},
    }
    return PlanRequest.model_validate(values | fields)


async def run_choice(
    planner: Planner,
    engine: MarkovEngine,
    req: PlanRequest,
    messages: list[dict[str, str]],
    tenant: str | None = None,
) -> tuple[str, PlanResult]:
    planned = await planner.begin(
        engine, req, n=1, model="markov", request_id="r", messages=messages, tenant=tenant
    )
    tok = engine.tokenizer
    prompt = tok.encode_rendered(tok.render_chat(messages, add_generation_prompt=True))
    text, result = "", None
    async for event in planned.run(0, prompt, Sampling(max_tokens=40, seed=3)):
        if isinstance(event, TextDelta):
            text += event.delta.text
        elif isinstance(event, PlanStored):
            result = event.result
    assert result is not None
    return text, result


async def test_of_two_concurrent_requests_for_one_plan_id_exactly_one_starts(
    planner: Planner,
) -> None:
    engine = MarkovEngine()
    outcomes = await asyncio.gather(
        *(
            planner.begin(
                engine, request(id="mine"), n=1, model="markov", request_id=f"r{i}",
                messages=USER_MSG, tenant=None,
            )
            for i in range(6)
        ),
        return_exceptions=True,
    )  # fmt: skip
    started = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, InvalidRequestError)]
    assert len(started) == 1 and len(refused) == 5
    assert all(e.param == "plan.id" for e in refused)


async def test_a_claimed_id_is_kept_by_the_finished_plan(planner: Planner) -> None:
    engine = MarkovEngine()
    _, result = await run_choice(planner, engine, request(id="kept"), USER_MSG)
    assert result.stored and result.finished
    assert (await planner.get("kept", tenant=None)).text == result.text
    with pytest.raises(InvalidRequestError):
        await planner.begin(
            engine,
            request(id="kept"),
            n=1,
            model="m",
            request_id="r2",
            messages=USER_MSG,
            tenant=None,
        )


async def test_a_request_that_never_finishes_frees_its_plan_id(planner: Planner) -> None:
    engine = MarkovEngine(step_delay=0.01)
    planned = await planner.begin(
        engine,
        request(id="left"),
        n=1,
        model="markov",
        request_id="r",
        messages=USER_MSG,
        tenant=None,
    )
    in_progress = await planner.store.get("left")
    assert in_progress is not None and not in_progress.plan.finished  # visible as unfinished
    tok = engine.tokenizer
    prompt = tok.encode_rendered(tok.render_chat(USER_MSG, add_generation_prompt=True))
    events = planned.run(0, prompt, Sampling(max_tokens=40, seed=3))
    async for event in events:
        if isinstance(event, TextDelta):
            break  # the client went away after the first token
    await events.aclose()  # type: ignore[attr-defined]
    assert await planner.store.get("left") is None
    await planner.begin(
        engine, request(id="left"), n=1, model="m", request_id="r2", messages=USER_MSG, tenant=None
    )


async def test_the_previous_turn_is_scored_as_during_generation(planner: Planner) -> None:
    """The next request's user message scores the stored plan's `user` predictions with the
    same buckets as a score during generation (not-reached rollouts count against it), and
    the model's log-probability of that message is exact."""
    engine = MarkovEngine()
    text, first = await run_choice(planner, engine, request(), USER_MSG)
    user = " No."
    messages = [
        *USER_MSG,
        {"role": "assistant", "content": text},
        {"role": "user", "content": user},
    ]
    planned = await planner.begin(
        engine, request(), n=1, model="markov", request_id="r2", messages=messages, tenant=None
    )
    previous = planned.previous
    assert previous is not None and previous.plan_id == first.id
    assert previous.assistant_matches
    reply = [*engine.tokenizer.encode(user), EOS]
    exact = math.fsum(math.log(TRANSITIONS[a, b]) for a, b in pairwise([USER, *reply]))
    assert previous.model_logprob == pytest.approx(exact, rel=1e-12)
    assert previous.model_tokens == len(reply)
    predicted = [
        s for s in first.snapshots if s.horizons.get("user") and s.horizons["user"].candidates
    ]
    assert [p.position for p in previous.predictions] == [s.position for s in predicted]
    for p, snapshot in zip(previous.predictions, predicted, strict=True):
        m = Match.of(snapshot.horizons["user"], user.strip(), await planner.clusterer("text"))
        assert p.probability == pytest.approx(m.probability)  # candidates and novel alike
    stored = await planner.get(first.id, tenant=None)
    assert stored.next_turn == previous


async def test_a_plan_cancelled_at_shutdown_is_never_the_fallback_previous_turn(
    planner: Planner,
) -> None:
    """No stored reply matches the client's: the newest whole plan of those messages is
    taken, never a newer one cut short at shutdown (a fragment the client never saw)."""
    from planner.config import PlanConfig
    from planner.conversation import turn_key
    from planner.plan import Plan
    from planner.store import PlanRecord

    key = turn_key(USER_MSG, tenant=None)
    for i, (text, cancelled) in enumerate([(" Yes, it is.", False), (" Ye", True)]):
        plan = Plan(
            id=f"plan-{i}", config=PlanConfig(), prompt_tokens=3, text=text, cancelled=cancelled
        )
        await planner.store.put(PlanRecord(plan=plan, turn_key=key, created=1000.0 + i))
    found = await planner._latest(key, " Something else.", None)
    assert found is not None and found.plan.id == "plan-0"
