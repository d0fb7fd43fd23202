"""The report's climatology, leave-one-conversation-out, checked by hand on a tiny run."""

from __future__ import annotations

import math
import random

import pytest
from test_eval_run import SETTINGS, _prompts, _run

from bench.eval.climatology import leave_one_out
from bench.eval.results import Results
from planner import Plan
from planner.clustering import TextClusterer, normalise


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Plan]:
    tmp = tmp_path_factory.mktemp("run")
    results = Results(tmp / "out", SETTINGS.to_dict())
    _run(_prompts(tmp, generated=4, followed=0), results)
    return {r["id"]: Plan.model_validate(r["plan"]) for r in results.rows}


def _by_hand(pool: list[str], outcome: str) -> float:
    """The fair energy score with exact-text distance: 0 for the same text, sqrt 2 else."""
    m = len(pool)
    differ = [normalise(x) != normalise(outcome) for x in pool]
    pairs = sum(normalise(a) != normalise(b) for i, a in enumerate(pool) for b in pool[i + 1 :])
    return math.sqrt(2) * (sum(differ) / m - 2 * pairs / (2 * m * (m - 1)))


def test_each_prediction_is_scored_against_the_other_conversations(
    plans: dict[str, Plan],
) -> None:
    scored = leave_one_out(plans, TextClusterer())
    checked = 0
    for cid, plan in plans.items():
        for s, loo in zip(plan.scores, scored[cid], strict=True):
            pool = [o.realised for k, p in sorted(plans.items()) if k != cid for o in p.scores
                    if o.horizon == s.horizon]  # fmt: skip
            assert len(pool) <= 64  # the tiny run needs no sample
            if len(pool) < 2:  # too few to score against, as in the server's pool
                assert loo.energy_climatology is None
                continue
            assert loo.energy_climatology == pytest.approx(_by_hand(pool, s.realised))
            # Everything else is the plan's own score, untouched.
            runtime = {"energy_climatology": None, "consensus_climatology": None}
            assert loo.model_copy(update=runtime) == s  # the eval's planner has no pool
            checked += 1
    assert checked >= 10


def test_the_baseline_does_not_depend_on_the_order_of_the_run(plans: dict[str, Plan]) -> None:
    ids = list(plans)
    random.Random(1).shuffle(ids)
    shuffled = {k: plans[k] for k in ids}
    for size in (64, 5):  # 5: every pool is a seeded sample of the others' endings
        assert leave_one_out(shuffled, TextClusterer(), size) == leave_one_out(
            plans, TextClusterer(), size
        )


def test_a_capped_pool_is_a_sample_of_the_others_endings(plans: dict[str, Plan]) -> None:
    """With a pool of 2 the score can only be one of the pairs the others' endings make."""
    cid = sorted(plans)[0]
    others = [o.realised for k, p in plans.items() if k != cid for o in p.scores
              if o.horizon == "sentence"]  # fmt: skip
    scored = leave_one_out(plans, TextClusterer(), size=2)[cid]
    for s in (s for s in scored if s.horizon == "sentence"):
        possible = {
            round(_by_hand([a, b], s.realised), 9)
            for i, a in enumerate(others)
            for b in others[i + 1 :]
        }
        assert s.energy_climatology is not None
        assert round(s.energy_climatology, 9) in possible


def test_one_conversation_has_no_climatology(plans: dict[str, Plan]) -> None:
    cid = sorted(plans)[0]
    alone = leave_one_out({cid: plans[cid]}, TextClusterer())[cid]
    assert alone and all(s.energy_climatology is None for s in alone)
    assert all(s.consensus_climatology is None for s in alone)


def test_an_empty_run_has_nothing_to_score() -> None:
    assert leave_one_out({}, TextClusterer()) == {}
