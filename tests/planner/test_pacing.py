"""plan.pace: with 'plan' each snapshot reaches the client before the text passes its
position (unless the hold bound ran out, and then the snapshot says late); the text is the
same token for token as with 'text'."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from markov_engine import MarkovEngine, chat_prompt
from test_generation import config, main_tokens

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Sampling
from planner.events import Event, PlanFinished, SnapshotReady, TextDelta
from planner.generation import generate


async def _events(cfg: PlanConfig, seed: int, step_delay: float = 0.0005) -> list[Event]:
    engine = MarkovEngine(step_delay=step_delay)
    gen = generate(engine, chat_prompt(engine), Sampling(60, seed=seed), cfg, TextClusterer())
    return [e async for e in gen.events()]


def _order(events: Sequence[Event]) -> list[tuple[int, int, bool]]:
    """Per snapshot event: (its position, main tokens the client had then, marked late)."""
    sent, out = 0, []
    for e in events:
        if isinstance(e, TextDelta):
            sent += len(e.delta.token_ids)
        elif isinstance(e, SnapshotReady):
            out.append((e.snapshot.position, sent, e.snapshot.late))
    return out


@pytest.mark.parametrize("refresh", ["sentence", "token", 3])
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_with_pace_plan_every_snapshot_leads_the_text(refresh: str | int, seed: int) -> None:
    cfg = config(refresh=refresh, pace="plan", max_hold_ms=60_000, id=f"lead-{seed}")
    order = _order(await _events(cfg, seed))
    assert len(order) >= 2
    for position, sent, late in order:
        assert sent <= position, f"text past {position} ({sent} tokens) before its snapshot"
        assert not late


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_pace_changes_when_text_is_sent_never_what_it_is(seed: int) -> None:
    plain = await _events(config(refresh="sentence", pace="text", id=f"p-{seed}"), seed)
    paced = await _events(config(refresh="sentence", pace="plan", id=f"p-{seed}"), seed)
    assert main_tokens(paced) == main_tokens(plain)
    assert [e.delta for e in paced if isinstance(e, TextDelta)] == [
        e.delta for e in plain if isinstance(e, TextDelta)
    ]
    plans = [e.plan for events in (plain, paced) for e in events if isinstance(e, PlanFinished)]
    assert plans[0].text == plans[1].text
    assert [s.position for s in plans[0].snapshots] == [s.position for s in plans[1].snapshots]


@pytest.mark.parametrize("pace", ["text", "plan"])
async def test_a_snapshot_after_text_past_its_position_says_late(pace: str) -> None:
    """With pace 'text', or with a hold bound too short for the rollouts (slow here: a turn
    horizon and a long lookahead), text passes snapshots; exactly those say late."""
    cfg = config(
        refresh="sentence",
        pace=pace,
        max_hold_ms=1,
        horizons=("sentence", "turn"),
        max_lookahead_tokens=40,
        id="late",
    )
    order = _order(await _events(cfg, 5, step_delay=0.002))
    assert any(late for _, _, late in order), "the text ran ahead of some snapshot"
    for position, sent, late in order:
        assert late == (sent > position)


async def test_the_plans_snapshots_keep_the_late_mark() -> None:
    cfg = config(refresh="sentence", pace="text", max_lookahead_tokens=40, id="kept")
    events = await _events(cfg, 5, step_delay=0.002)
    streamed = {
        e.snapshot.position: e.snapshot.late for e in events if isinstance(e, SnapshotReady)
    }
    plan = next(e.plan for e in events if isinstance(e, PlanFinished))
    assert {s.position: s.late for s in plan.snapshots} == streamed
