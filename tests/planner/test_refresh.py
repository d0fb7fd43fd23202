"""Which horizons each refresh plans (``refresh_every``), and what that saves."""

from __future__ import annotations

import pytest
from markov_engine import EOS, ID, MarkovEngine, chat_prompt
from pydantic import ValidationError

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Sampling
from planner.events import PlanFinished, TextDelta
from planner.generation import generate
from planner.plan import Plan

PARAGRAPH = ID["\n\n"]


def config(**changes: object) -> PlanConfig:
    values: dict[str, object] = {
        "horizons": ("sentence", "paragraph", "turn"),
        "rollouts": 4,
        "refresh": "sentence",
        "max_lookahead_tokens": 16,
        "clustering": "text",
    }
    values.update(changes)
    return PlanConfig.model_validate(values)


async def run(cfg: PlanConfig, seed: int) -> tuple[list[int], Plan, int]:
    """(main tokens, plan, tokens the engine generated) of one seeded run."""
    engine = MarkovEngine()
    gen = generate(
        engine,
        chat_prompt(engine),
        Sampling(max_tokens=200, seed=seed),
        cfg.model_copy(update={"id": f"cadence-{seed}"}),
        TextClusterer(),
    )
    events = [e async for e in gen.events()]
    last = events[-1]
    assert isinstance(last, PlanFinished)
    tokens = [t for e in events if isinstance(e, TextDelta) for t in e.delta.token_ids]
    return tokens, last.plan, engine.tokens_generated


def paragraph_ends(plan: Plan) -> list[int]:
    """Token positions where the text's paragraphs ended (the text's own segmentation)."""
    return [u.end_position for u in plan.realised["paragraph"]]


def expected_horizons(plan: Plan, every: dict[str, int]) -> list[set[str]]:
    """The rule by hand: each horizon at every n-th point and at the first; paragraph also
    at the first point at or after a paragraph end."""
    ends = paragraph_ends(plan)
    due: list[set[str]] = []
    last: dict[str, int] = {}  # horizon -> index of the last point that planned it
    positions = [s.position for s in plan.snapshots]
    for i, t in enumerate(positions):
        now = set()
        for h in ("sentence", "paragraph", "turn"):
            new = h == "paragraph" and h in last and any(positions[last[h]] < e <= t for e in ends)
            if h not in last or i - last[h] >= every.get(h, 1) or new:
                now.add(h)
                last[h] = i
        due.append(now)
    return due


@pytest.mark.parametrize("every", [{"turn": 3}, {"paragraph": 2, "turn": 4}, {"sentence": 2}])
async def test_each_snapshot_plans_the_horizons_due_at_its_point(every: dict[str, int]) -> None:
    for seed in range(6):
        _, plan, _ = await run(config(refresh_every=every), seed)
        assert [set(s.horizons) for s in plan.snapshots] == expected_horizons(plan, every)
        # Scores and forks only ever concern a horizon that its snapshot planned.
        planned = {(s.position, h) for s in plan.snapshots for h in s.horizons}
        assert {(s.position, s.horizon) for s in plan.scores} <= planned
        assert {(f.position, f.horizon) for f in plan.forks} <= planned


async def test_a_paragraph_break_brings_the_paragraph_horizon_back_at_once() -> None:
    """With `paragraph` due only every 100 points, it is planned at the first point and then
    exactly at the first point at or after each paragraph end."""
    breaks = 0
    for seed in range(12):
        _, plan, _ = await run(config(refresh_every={"paragraph": 100}), seed)
        ends = paragraph_ends(plan)[:-1]  # the last one is the end of the text
        last = 0  # position of the last snapshot that planned the paragraph
        for s in plan.snapshots[1:]:
            broke = any(last < e <= s.position for e in ends)
            if s.position < plan.completion_tokens - 1:  # the last point ends the text too
                assert ("paragraph" in s.horizons) == broke
            if "paragraph" in s.horizons:
                breaks += broke
                last = s.position
    assert breaks > 0, "no seed broke a paragraph: pick other seeds"


async def test_thinning_long_horizons_saves_rollout_tokens_and_keeps_the_text() -> None:
    """The same seeds with the turn planned every 4th point: identical main text, fewer
    engine tokens, and sentence plans at every point still."""
    saved = 0
    for seed in range(4):
        tokens_all, _, work_all = await run(config(), seed)
        tokens_thin, plan_thin, work_thin = await run(
            config(refresh_every={"turn": 4, "paragraph": 4}), seed
        )
        assert tokens_thin == tokens_all
        assert tokens_all[-1] == EOS
        assert all("sentence" in s.horizons for s in plan_thin.snapshots)
        assert work_thin <= work_all
        saved += work_all - work_thin
    assert saved > 0


@pytest.mark.parametrize(
    ("every", "message"),
    [({"user": 2}, "not among the horizons"), ({"turn": 0}, "greater than 0")],
)
def test_refresh_every_is_checked(every: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        config(refresh_every=every)


def test_configs_stay_hashable_and_the_cadence_has_one_order() -> None:
    a = config(refresh_every={"turn": 4, "paragraph": 2})
    b = config(refresh_every={"paragraph": 2, "turn": 4})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert list(a.refresh_every or {}) == ["paragraph", "turn"]
    assert hash(a) != hash(config(refresh_every={}))


async def test_a_point_where_no_horizon_is_due_is_skipped() -> None:
    """With only thinned horizons (turn every 3rd point), the points in between plan nothing:
    they start no rollouts and take no snapshot (before, they sampled K rollouts for an
    empty snapshot and crashed counting their tokens)."""
    cfg = config(horizons=("turn",), refresh_every={"turn": 3})
    for seed in range(4):
        tokens, plan, _ = await run(cfg, seed)
        every_point = await run(config(horizons=("turn",), refresh_every={}), seed)
        points = [s.position for s in every_point[1].snapshots]
        assert tokens == every_point[0]
        assert [s.position for s in plan.snapshots] == points[::3]
        assert all(s.horizons for s in plan.snapshots)
        assert plan.stats.refreshes == len(plan.snapshots)
