"""The climatology baseline of ``foresight eval``, computed leave-one-conversation-out when
the report is written: every scored prediction is set against the realised endings of the
same horizon from all *other* conversations of the run.

Invariant: a conversation's baseline never holds its own endings, and does not depend on
the order the conversations were planned or finished in (the pool is drawn from the others
sorted by id, capped as ``planner.climatology`` caps its pool, with a seed of the
conversation and horizon). The server's own climatology (the endings of earlier requests)
grows in run order; the report keeps that value, where a row stores it, apart as
``climatology_runtime``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from planner import Plan, Score
from planner.climatology import DEFAULT_SIZE, MIN_ENDINGS
from planner.clustering import Clusterer
from planner.config import Horizon
from planner.consensus import base_rate
from planner.energy import fair_energy
from planner.pool import derive_seed


def _pool(
    ids: Sequence[str], endings: dict[str, list[str]], own: str, horizon: Horizon, size: int
) -> list[str]:
    """The other conversations' endings of ``horizon``; a seeded subsample if over ``size``."""
    found = [e for cid in ids if cid != own for e in endings[cid]]
    if len(found) <= size:
        return found
    seed = derive_seed(0, "climatology", own, horizon)
    keep = np.random.default_rng(seed).choice(len(found), size, replace=False)
    return [found[i] for i in sorted(keep)]


def _agreed(plan: Plan, position: int, horizon: Horizon) -> list[str]:
    for snap in plan.snapshots:
        if snap.position == position and horizon in snap.horizons:
            consensus = snap.horizons[horizon].consensus
            return [t.term for t in consensus.terms] if consensus else []
    return []


def leave_one_out(
    plans: dict[str, Plan], clusterer: Clusterer, size: int = DEFAULT_SIZE
) -> dict[str, list[Score]]:
    """Per conversation id, its plan's scores with ``energy_climatology`` (the fair energy
    score of the others' endings, in the clusterer's space, as ``planner.evaluation`` scores
    the server's pool) and ``consensus_climatology`` taken leave-one-conversation-out.

    A horizon planned by fewer than two other conversations' endings has no baseline (None).
    """
    ids = sorted(plans)
    horizons = sorted({s.horizon for p in plans.values() for s in p.scores})
    pools: dict[tuple[str, Horizon], list[str]] = {}
    for h in horizons:
        endings = {cid: [s.realised for s in plans[cid].scores if s.horizon == h] for cid in ids}
        for cid in ids:
            pools[cid, h] = _pool(ids, endings, cid, h, size)
    texts = sorted({s.realised for p in plans.values() for s in p.scores})
    index = {t: i for i, t in enumerate(texts)}
    # Every realised ending is in some pool or is an outcome: one distance matrix serves all.
    d = clusterer.distances(texts, texts) if texts else np.zeros((0, 0))
    out: dict[str, list[Score]] = {}
    for cid in ids:
        plan = plans[cid]
        scores = []
        for s in plan.scores:
            pool = pools[cid, s.horizon]
            energy = None
            if usable := (pool if len(pool) >= MIN_ENDINGS else None):
                members = [index[t] for t in usable]
                to_outcome = d[index[s.realised], members]
                energy = fair_energy(to_outcome, d[np.ix_(members, members)], [1] * len(usable))
            rate = base_rate(_agreed(plan, s.position, s.horizon), usable)
            scores.append(
                s.model_copy(update={"energy_climatology": energy, "consensus_climatology": rate})
            )
        out[cid] = scores
    return out
