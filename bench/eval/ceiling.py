"""The sampling-noise ceiling: a second, independent set of K rollouts at each snapshot's
prefix, scored against the same realised ending the same way the plan is.

The realised ending is one more draw from the distribution both sets sample, so no plan of
size K can do better in expectation than this second set: the plan's skill against it is
zero up to sampling noise when the plan is as good as K rollouts allow.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from bench.measure import follow_rollout
from planner import Plan
from planner.clustering import Clusterer, representatives
from planner.config import Horizon
from planner.energy import ensemble_energy
from planner.engine.protocol import Delta, Engine, Sampling
from planner.main_text import MainText
from planner.pool import derive_seed
from planner.rollout import CERTAINTY_SLACK, Rollout

IN_FLIGHT = 16  # ceiling rollouts decoding at once (one engine batch on a CPU)


@dataclass(frozen=True)
class CeilingScore:
    position: int
    horizon: Horizon
    energy: float | None  # None when no rollout of the second set reached the horizon
    reached: int


async def _endings(
    engine: Engine,
    prompt_ids: Sequence[int],
    main: MainText,
    position: int,
    horizons: Sequence[Horizon],
    sampling: Sampling,
    lookahead: int,
    ordinal: int,
    slots: asyncio.Semaphore,
) -> dict[Horizon, str | None]:
    """One rollout from ``position``: its ending per horizon (None: not reached)."""
    seed = derive_seed(sampling.seed, "ceiling", position, ordinal)
    r = Rollout(
        id=f"eval-ceiling-{uuid.uuid4().hex[:12]}",
        start=position,
        seed=seed,
        context=main.context_before(position),
    )
    # The planner's rollout sampling: no stops, EOS honoured, sampled-token logprobs only.
    params = sampling.with_(
        max_tokens=lookahead + CERTAINTY_SLACK,
        seed=seed,
        ignore_eos=False,
        logprobs=0,
        stop=(),
        stop_token_ids=(),
    )
    async with slots:
        prompt = [*prompt_ids, *main.tokens[:position]]
        await follow_rollout(engine, r, prompt, params, horizons, position, lookahead)
    found = {h: r.outcome(h, position, 0, lookahead) for h in horizons}
    return {h: o.text if o.status == "reached" else None for h, o in found.items()}


def _energy(endings: list[str], realised: str, clusterer: Clusterer) -> float | None:
    """Fair energy of the endings as the plan scores its own: cluster representatives
    weighted by their counts."""
    if not endings:
        return None
    labels = clusterer.cluster(endings)
    reps = representatives(endings, labels)
    counts = [labels.count(i) for i in range(len(reps))]
    return ensemble_energy(reps, counts, realised, clusterer)


async def ceiling_scores(
    engine: Engine,
    prompt_ids: Sequence[int],
    deltas: Sequence[Delta],
    plan: Plan,
    sampling: Sampling,
    clusterer: Clusterer,
) -> list[CeilingScore]:
    """For every scored prediction of an assistant horizon, the second set's energy score.

    The ``user`` horizon has no ceiling here (its rollouts would also sample the user's
    reply after the turn; left out to keep the run short).
    """
    main = MainText(engine.tokenizer.eos_token_ids)
    for delta in deltas:
        main.add(delta)
    wanted: dict[int, list[Horizon]] = {}
    for s in plan.scores:
        if s.horizon != "user":
            wanted.setdefault(s.position, []).append(s.horizon)
    slots = asyncio.Semaphore(IN_FLIGHT)
    lookahead = plan.config.max_lookahead_tokens
    jobs = {
        t: asyncio.gather(
            *(
                _endings(engine, prompt_ids, main, t, hs, sampling, lookahead, i, slots)
                for i in range(plan.config.rollouts)
            )
        )
        for t, hs in wanted.items()
    }
    sets = dict(zip(jobs, await asyncio.gather(*jobs.values()), strict=True))
    out = []
    for s in plan.scores:
        if s.horizon == "user":
            continue
        endings = [e for e in (r[s.horizon] for r in sets[s.position]) if e is not None]
        energy = await asyncio.to_thread(_energy, endings, s.realised, clusterer)
        out.append(CeilingScore(s.position, s.horizon, energy, len(endings)))
    return out
