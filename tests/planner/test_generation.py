"""A planned generation on the Markov engine: what a user sees in the events and the plan.

Non-statistical behaviour: snapshot bookkeeping, refresh schedules, scoring coverage, forks,
JSON round trips, the ``user`` horizon in follow mode, and scores checked against arithmetic
done by hand (stopping early: test_generation_cancel.py).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from itertools import pairwise

import pytest
from markov_engine import ASSISTANT, EOS, ID, TRANSITIONS, USER, MarkovEngine, chat_prompt

from planner.clustering import TextClusterer
from planner.config import PlanConfig
from planner.engine.protocol import Delta, Sampling
from planner.evaluation import plan_divergence
from planner.events import Event, ForkFound, PlanFinished, ScoreReady, SnapshotReady, TextDelta
from planner.follow import follow
from planner.generation import generate
from planner.plan import Plan

SENTENCE_STOPS = frozenset({ID["."], ID["!"]})  # tokens after which a sentence ends in text


@pytest.fixture
def engine() -> MarkovEngine:
    return MarkovEngine()


def config(**changes: object) -> PlanConfig:
    """Exact text clustering (no model) and a short lookahead unless a test says otherwise."""
    values: dict[str, object] = {
        "horizons": ("sentence", "turn"),
        "rollouts": 8,
        "refresh": "token",
        "max_lookahead_tokens": 12,
        "clustering": "text",
        "refresh_every": {},  # every horizon at every point (tests/planner/test_refresh.py)
    }
    values.update(changes)
    return PlanConfig.model_validate(values)


async def planned(
    engine: MarkovEngine, prompt: Sequence[int], sampling: Sampling, cfg: PlanConfig
) -> tuple[list[Event], Plan]:
    """All events of one planned generation, and its finished plan."""
    gen = generate(engine, prompt, sampling, cfg, TextClusterer())
    events = [e async for e in gen.events()]
    last = events[-1]
    assert isinstance(last, PlanFinished)
    return events, last.plan


def main_tokens(events: Sequence[Event]) -> list[int]:
    return [t for e in events if isinstance(e, TextDelta) for t in e.delta.token_ids]


def realised(tokens: Sequence[int], t: int, horizon: str) -> tuple[int, Sequence[int], bool]:
    """(tokens to the end, the tokens, whether a sentence end closed it) of the unit at ``t``.

    From the chain's rules, for a complete text that ended with <eos>: a sentence ends after
    "." or "!"; at the end of the turn whatever is left (possibly only <eos>) ends it.
    """
    if horizon == "sentence":
        for i in range(t, len(tokens)):
            if tokens[i] in SENTENCE_STOPS:
                return i + 1 - t, tokens[t : i + 1], True
    return len(tokens) - t, tokens[t:], False


def chain_logprob(previous: int, tokens: Sequence[int]) -> float:
    """Exact log-probability of ``tokens`` after ``previous`` under the raw chain."""
    path = [previous, *tokens]
    return math.fsum(math.log(TRANSITIONS[a, b]) for a, b in pairwise(path))


async def ended_turns(
    engine: MarkovEngine, cfg: PlanConfig, seeds: Sequence[int]
) -> list[tuple[list[int], Plan]]:
    """(main tokens, plan) of seeded runs whose turn ended with <eos>.

    Rollout seeds derive from the request seed and each rollout's position and ordinal, so
    the plans, not only the texts, are the same on every run.
    """
    out = []
    for seed in seeds:
        run = cfg.model_copy(update={"id": f"turn-{seed}"})
        events, plan = await planned(engine, chat_prompt(engine), Sampling(200, seed=seed), run)
        tokens = main_tokens(events)
        assert tokens[-1] == EOS, "the chain ends a turn within 200 tokens for these seeds"
        out.append((tokens, plan))
    return out


# -- snapshot bookkeeping -----------------------------------------------------------------


async def test_snapshots_are_consistent_summaries_of_k_rollouts(engine: MarkovEngine) -> None:
    """Every snapshot holds exactly K rollouts, fresh plus carried; probabilities are shares
    of the reached ones and sum to 1; the listed rollouts agree with the summary."""
    k = 8
    cfg = config(rollouts=k, include_rollouts=True, max_lookahead_tokens=6)
    carried_seen = 0
    for _, plan in await ended_turns(engine, cfg, range(6)):
        assert plan.snapshots[0].position == 0
        assert all(h.carried_rollouts == 0 for h in plan.snapshots[0].horizons.values())
        for snap in plan.snapshots:
            assert snap.rollouts is not None and len(snap.rollouts) == k
            for name, h in snap.horizons.items():
                assert h.fresh_rollouts + h.carried_rollouts == k
                assert h.reached + h.not_reached == k
                assert h.carried_rollouts == sum(r.carried for r in snap.rollouts)
                assert h.reached == sum(r.endings[name] is not None for r in snap.rollouts)
                assert sum(c.count for c in h.candidates) == h.reached
                total = math.fsum(c.probability for c in h.candidates)
                assert total + h.novel == pytest.approx(1.0)
                if h.reached:
                    coverage = 1.0 - h.novel
                    assert all(
                        c.probability == pytest.approx(coverage * c.count / h.reached)
                        for c in h.candidates
                    )
                    assert [c.count for c in h.candidates] == sorted(
                        (c.count for c in h.candidates), reverse=True
                    )
                else:
                    assert h.candidates == [] and h.tokens_to_end.mean is None
            carried_seen += snap.horizons["sentence"].carried_rollouts
    assert carried_seen > 0, "refreshing every token must carry rollouts over"


async def test_stats_count_each_carried_rollout_once(engine: MarkovEngine) -> None:
    """``stats.rollouts_carried`` counts the rollouts the snapshots really carried over.

    A regression guard: the stats must not count tentatively carried rollouts that were later
    dropped for disagreeing with the main text.
    """
    k = 8
    for _, plan in await ended_turns(engine, config(rollouts=k), range(4)):
        snaps = plan.snapshots
        carried = sum(s.horizons["sentence"].carried_rollouts for s in snaps)
        fresh = sum(s.horizons["sentence"].fresh_rollouts for s in snaps)
        assert plan.stats.rollouts_started == fresh
        assert plan.stats.rollouts_carried <= k * len(snaps) - fresh
        assert plan.stats.rollouts_carried == carried


# -- when refreshes happen ----------------------------------------------------------------


@pytest.mark.parametrize("policy", ["token", 3, "sentence"])
async def test_refresh_positions_follow_the_policy(engine: MarkovEngine, policy: str | int) -> None:
    """Refreshes at every token / every N tokens / each sentence start, plus the start, and
    never after the final token."""
    for tokens, plan in await ended_turns(engine, config(refresh=policy), range(5)):
        n = len(tokens)
        if policy == "token":
            expected = set(range(n))
        elif policy == "sentence":
            expected = {0} | {i + 1 for i, t in enumerate(tokens) if t in SENTENCE_STOPS}
        else:
            assert isinstance(policy, int)
            expected = set(range(0, n, policy))
        positions = [s.position for s in plan.snapshots]
        assert positions == sorted(expected)
        assert max(positions) < n
        trigger = "interval" if isinstance(policy, int) else policy
        assert [s.trigger for s in plan.snapshots] == ["start"] + [trigger] * (len(positions) - 1)
        assert plan.stats.refreshes == len(positions)


async def test_length_cut_plans_nothing_after_the_last_token(engine: MarkovEngine) -> None:
    """A text cut by max_tokens gets refreshes at positions 0..max_tokens-1 and no more."""
    events, plan = await planned(
        engine,
        chat_prompt(engine),
        Sampling(max_tokens=5, seed=3, ignore_eos=True),
        config(id="cut-3"),
    )
    assert len(main_tokens(events)) == 5
    assert [s.position for s in plan.snapshots] == [0, 1, 2, 3, 4]


# -- scores -------------------------------------------------------------------------------


async def test_every_snapshot_with_a_realised_ending_in_reach_is_scored(
    engine: MarkovEngine,
) -> None:
    """Each (snapshot, horizon) whose ending the text realised within the lookahead gets one
    score, with the realised text, its length and the model's exact log-probability; the
    rest are counted as unscored."""
    lookahead = 6
    cfg = config(max_lookahead_tokens=lookahead)
    tok = engine.tokenizer
    for tokens, plan in await ended_turns(engine, cfg, range(8)):
        scores = {(s.position, s.horizon): s for s in plan.scores}
        unscored = dict.fromkeys(cfg.horizons, 0)
        for snap in plan.snapshots:
            t = snap.position
            for h in cfg.horizons:
                n, unit, closed = realised(tokens, t, h)
                if n > lookahead:
                    unscored[h] += 1
                    assert (t, h) not in scores
                    continue
                score = scores.pop((t, h))
                text = tok.decode(unit)  # the text as it stands; a trailing rest is stripped
                assert score.realised == (text if h == "turn" or closed else text.strip())
                assert score.realised_tokens == n
                previous = tokens[t - 1] if t else ASSISTANT
                assert score.model_logprob == pytest.approx(chain_logprob(previous, unit))
        assert not scores, f"scores for no snapshot: {sorted(scores)}"
        assert {h: plan.unscored.get(h, 0) for h in cfg.horizons} == unscored
        for h in cfg.horizons:  # endings that close the reply are counted apart
            c = plan.comparison[h]
            assert c.n + c.ends_reply_n == sum(s.horizon == h for s in plan.scores)


async def test_score_events_match_the_plan(engine: MarkovEngine) -> None:
    """Streamed SnapshotReady / ScoreReady / ForkFound events are exactly the plan's."""
    cfg = config(fork_threshold=0.1, id="events-11")
    events, plan = await planned(engine, chat_prompt(engine), Sampling(60, seed=11), cfg)
    snaps = [e.snapshot for e in events if isinstance(e, SnapshotReady)]
    assert sorted(snaps, key=lambda s: s.position) == plan.snapshots
    scores = [e.score for e in events if isinstance(e, ScoreReady)]
    assert sorted(scores, key=lambda s: (s.position, s.horizon)) == plan.scores
    forks = [e.fork for e in events if isinstance(e, ForkFound)]
    assert sorted(forks, key=lambda f: (f.position, f.horizon)) == plan.forks
    text = "".join(e.delta.text for e in events if isinstance(e, TextDelta))
    assert text == plan.text and plan.finished


# -- forks --------------------------------------------------------------------------------


async def test_forks_are_the_adjacent_snapshots_that_diverge_past_the_threshold(
    engine: MarkovEngine,
) -> None:
    """Forks list exactly the consecutive refreshes within one unit whose plans diverge by
    more than fork_threshold, and only those."""
    threshold = 0.3
    tok = engine.tokenizer
    cfg = config(fork_threshold=threshold)
    n_forks = 0
    for tokens, plan in await ended_turns(engine, cfg, range(6)):
        text = plan.text
        expected = set()
        for prev, cur in pairwise(plan.snapshots):
            a, b = prev.position, cur.position
            for h in cfg.horizons:
                start = 0
                if h == "sentence":
                    if any(t in SENTENCE_STOPS for t in tokens[a:b]):
                        continue  # a new sentence began between them
                    ends = [i + 1 for i in range(a) if tokens[i] in SENTENCE_STOPS]
                    start = len(tok.decode(tokens[: ends[-1]])) if ends else 0
                d = plan_divergence(
                    prev.horizons[h],
                    text[start : prev.text_offset],
                    cur.horizons[h],
                    text[start : cur.text_offset],
                    TextClusterer(),
                )
                if d is not None and d > threshold:
                    expected.add((b, h, d))
        found = {(f.position, f.horizon, f.divergence) for f in plan.forks}
        assert found == expected
        assert all(f.divergence > threshold for f in plan.forks)
        assert all(f.token == tok.token_text(tokens[f.position - 1]) for f in plan.forks)
        n_forks += len(found)
    assert n_forks > 0


class SlowMainEngine(MarkovEngine):
    """The main sequence (priority 0) takes 10 ms a token; rollouts are instant."""

    async def generate(
        self, request_id: str, prompt_ids: Sequence[int], sampling: Sampling, *, priority: int = 0
    ) -> AsyncIterator[Delta]:
        stream = super().generate(request_id, prompt_ids, sampling, priority=priority)
        try:
            async for delta in stream:
                if priority == 0:
                    await asyncio.sleep(0.01)
                yield delta
        finally:
            await stream.aclose()  # type: ignore[attr-defined]


async def test_no_sentence_fork_across_a_sentence_end_when_the_main_text_is_slow() -> None:
    """A sentence plan is never compared with the next sentence's plan.

    A "." only becomes a certain end once the next non-blank token arrives; when the
    snapshot after the "." is ready first (its carried rollouts resolved already), a
    comparison made from the boundaries certain *at that moment* would see one sentence
    and report a fork of divergence up to 1 at the sentence start. The evaluator waits.
    """
    engine = SlowMainEngine()
    cfg = config(horizons=("sentence",), fork_threshold=0.0)
    across = []
    for seed in range(4):
        run = cfg.model_copy(update={"id": f"slow-{seed}"})
        events, plan = await planned(engine, chat_prompt(engine), Sampling(40, seed=seed), run)
        tokens = main_tokens(events)
        across += [f for f in plan.forks if tokens[f.position - 1] in SENTENCE_STOPS]
    assert across == []


# -- the plan as data ---------------------------------------------------------------------


async def test_plan_round_trips_through_json(engine: MarkovEngine) -> None:
    """A full plan (rollouts, implicit state, scores, forks, realised units, stats) survives
    to_json / from_json unchanged."""
    cfg = config(
        horizons=("sentence", "paragraph", "turn", "user"),
        include_rollouts=True,
        fork_threshold=0.1,
        id="plan-json-1",
    )
    _, plan = await planned(engine, chat_prompt(engine), Sampling(40, seed=5), cfg)
    assert plan.scores and plan.forks and plan.snapshots[1].implicit is not None
    assert plan.snapshots[0].rollouts
    again = Plan.from_json(plan.to_json())
    assert again == plan
    assert again.to_json() == plan.to_json()


async def test_seeded_plan_with_fixed_id_is_reproducible(engine: MarkovEngine) -> None:
    """The same request (seed and plan id) twice gives the same plan, rollouts included.

    A regression guard: the views are frozen on the event loop before clustering runs in a
    worker thread; were they read in the thread while later refreshes extend the same
    rollouts, how much text a view shows would depend on thread timing.
    """
    cfg = config(include_rollouts=True, max_lookahead_tokens=8, id="plan-repro")
    given = " The cat sat and the dog ran."
    prompt = chat_prompt(engine)

    async def views(seed: int) -> list[list[tuple[str, int]]]:
        out = []
        async for e in (
            await follow(engine, prompt, given, cfg, TextClusterer(), sampling=Sampling(seed=seed))
        ).events():
            if isinstance(e, PlanFinished):
                out = [[(r.text, r.tokens) for r in s.rollouts or []] for s in e.plan.snapshots]
        return out

    for seed in range(12):
        assert await views(seed) == await views(seed)


# -- follow mode and the user's reply -----------------------------------------------------


async def test_user_horizon_scores_the_given_reply_with_its_exact_logprob(
    engine: MarkovEngine,
) -> None:
    """Following a given turn with a given user reply, every snapshot's ``user`` prediction
    is scored against that reply, with the model's exact log-probability of it."""
    assistant, user = " The cat sat.", " Yes and the dog ran!"
    tok = engine.tokenizer
    cfg = config(horizons=("sentence", "turn", "user"), max_lookahead_tokens=16, id="user-1")
    prompt = chat_prompt(engine)
    events = [
        e
        async for e in (
            await follow(
                engine,
                prompt,
                assistant,
                cfg,
                TextClusterer(),
                sampling=Sampling(seed=1),
                user=user,
            )
        ).events()
    ]
    last = events[-1]
    assert isinstance(last, PlanFinished)
    plan = last.plan
    reply = tok.encode(user)
    exact = chain_logprob(USER, [*reply, EOS])  # after <eos><user>, through the reply's <eos>
    user_scores = [s for s in plan.scores if s.horizon == "user"]
    n = len(tok.encode(assistant)) + 1
    assert [s.position for s in user_scores] == [s.position for s in plan.snapshots]
    for s in user_scores:
        assert s.realised == user.strip()
        assert s.model_logprob == pytest.approx(exact, rel=1e-12)
        assert s.realised_tokens == n - s.position + 1 + len(reply) + 1
    unit = plan.realised["user"][0]
    assert (unit.text, unit.start_position) == (user.strip(), n)
    assert plan.text == assistant and plan.completion_tokens == n
    assert plan.comparison["user"].n == len(user_scores)
    # the rollouts did predict user replies
    assert any(s.horizons["user"].candidates for s in plan.snapshots)
