"""Plan error at a given cost: each plan setting's plan against a reference plan, per prefix.

For each prefix (sentence starts of a plain reply to each prompt) the reference is one plan
of ``REFERENCE_ROLLOUTS`` plain rollouts; each setting plans the same prefix ``repeats``
times with its own seeds, through the product's own path (``planner.generation.generate``:
the main sequence's next-token distribution, the pool, the refresh, the weights). The error
of one plan is the energy distance between its weighted sentence endings and the
reference's, in the clusterer's space:

    D = 2 E d(X, Y) - E d(X, X') - E d(Y, Y')

(X from the plan, weights as the snapshot gives them; Y from the reference; d the
clusterer's distance, an ending not reached within the lookahead being one more point at
sqrt 2 from every text). With V-statistics (a member's distance to itself counts, as 0)
D includes the plan's sampling noise, which is the point: a setting with less variance at
the same cost scores lower. The reference's own noise adds the same amount to every
setting, so differences between settings are what to read.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from planner.clustering import ORTHOGONAL, Clusterer
from planner.config import PlanConfig
from planner.engine.protocol import Engine, Sampling
from planner.events import PlanFinished, SnapshotReady
from planner.generation import generate
from planner.main_text import MainText
from planner.plan import Snapshot

REFERENCE_ROLLOUTS = 64
Ensemble = list[tuple[str | None, float]]  # (ending, weight), weights summing to 1


def settings(base: PlanConfig) -> dict[str, PlanConfig]:
    """The settings compared side by side: today's default, stratified at equal K, and
    stratified with the adaptive refresh policy (K varies with the next token)."""
    common = base.model_copy(update={"horizons": ("sentence",), "include_rollouts": True})
    return {
        "default": common.model_copy(update={"sampling": "plain", "refresh_policy": "fixed"}),
        "stratified": common.model_copy(
            update={"sampling": "stratified", "refresh_policy": "fixed"}
        ),
        "adaptive": common.model_copy(
            update={"sampling": "stratified", "refresh_policy": "adaptive"}
        ),
    }


async def prefixes(
    engine: Engine, prompt: list[int], sampling: Sampling, per_prompt: int
) -> list[list[int]]:
    """The reply's first ``per_prompt`` sentence starts (0 included), as prompt + tokens."""
    main = MainText(engine.tokenizer.eos_token_ids)
    async for delta in engine.generate(f"bench-prefix-{uuid.uuid4().hex}", prompt, sampling):
        main.add(delta)
    starts = [0] + [main.index.tokens_to_cover(e) for e in main.ends["sentence"]]
    starts = [s for s in dict.fromkeys(starts) if s < len(main.tokens)]
    return [prompt + main.tokens[:s] for s in starts[:per_prompt]]


async def one_plan(
    engine: Engine, prefix: list[int], sampling: Sampling, config: PlanConfig, clusterer: Clusterer
) -> tuple[Ensemble, int, bool]:
    """The plan at ``prefix`` (its start refresh only), the rollout tokens it decoded, and
    whether its rollouts were stratified."""
    # One main token: the refresh at 0 sees its distribution; no other refresh point.
    config = config.model_copy(update={"refresh": 1_000_000})
    snapshot: Snapshot | None = None
    tokens = 0
    gen = generate(engine, prefix, sampling.with_(max_tokens=1), config, clusterer)
    async for event in gen.events():
        if isinstance(event, SnapshotReady) and event.snapshot.position == 0:
            snapshot = event.snapshot
        elif isinstance(event, PlanFinished):
            tokens = event.plan.stats.rollout_tokens
    assert snapshot is not None and snapshot.rollouts is not None
    ensemble = [(r.endings["sentence"], r.weight) for r in snapshot.rollouts]
    return ensemble, tokens, snapshot.sampling == "stratified"


def energy_distance(a: Ensemble, b: Ensemble, clusterer: Clusterer) -> float:
    """D between two weighted ensembles of endings (None = not reached)."""
    items = [e for e, _ in a] + [e for e, _ in b]
    texts = [e for e in items if e is not None]
    d = np.full((len(items), len(items)), ORTHOGONAL)
    idx = [i for i, e in enumerate(items) if e is not None]
    if texts:
        d[np.ix_(idx, idx)] = clusterer.distances(texts, texts)
    none = [i for i, e in enumerate(items) if e is None]
    d[np.ix_(none, none)] = 0.0
    wa = np.array([w for _, w in a] + [0.0] * len(b))
    wb = np.array([0.0] * len(a) + [w for _, w in b])
    return float(max(0.0, 2 * wa @ d @ wb - wa @ d @ wa - wb @ d @ wb))


async def measure(
    engine: Engine,
    prompts: Sequence[list[int]],
    base: Sampling,
    configs: dict[str, PlanConfig],
    clusterer: Clusterer,
    *,
    per_prompt: int,
    repeats: int,
    reference_rollouts: int = REFERENCE_ROLLOUTS,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """plan_error and rollout_tokens per setting (means over prefixes and repeats)."""
    errors: dict[str, list[float]] = {name: [] for name in configs}
    tokens: dict[str, list[int]] = {name: [] for name in configs}
    reference_tokens: list[int] = []
    stratified = dict.fromkeys(configs, 0)
    n_prefixes = 0
    for i, prompt in enumerate(prompts):
        for j, prefix in enumerate(await prefixes(engine, prompt, base.with_(seed=i), per_prompt)):
            n_prefixes += 1
            say(
                f"plan error: prompt {i + 1}/{len(prompts)}, sentence start {j + 1}: "
                f"reference ({reference_rollouts} rollouts) and {len(configs)} settings "
                f"x {repeats} plans"
            )
            reference_config = next(iter(configs.values())).model_copy(
                update={
                    "rollouts": reference_rollouts,
                    "sampling": "plain",
                    "refresh_policy": "fixed",
                }
            )
            seed = 1_000_003 * (i + 1) + j
            # All plans of a prefix at once: they share batches (the errors and token counts
            # are per plan and do not depend on timing; each plan's seeds are its own).
            jobs = [(name, r) for name in configs for r in range(repeats)]
            reference_job = one_plan(
                engine, prefix, base.with_(seed=seed), reference_config, clusterer
            )
            (reference, spent, _), *plans = await asyncio.gather(
                reference_job,
                *(
                    one_plan(
                        engine,
                        prefix,
                        base.with_(seed=seed + 7919 * (r + 1)),
                        configs[name],
                        clusterer,
                    )
                    for name, r in jobs
                ),
            )
            reference_tokens.append(spent)
            for (name, _), (plan, spent, how) in zip(jobs, plans, strict=True):
                errors[name].append(energy_distance(plan, reference, clusterer))
                tokens[name].append(spent)
                stratified[name] += how
    default = next(iter(configs))
    out: dict[str, Any] = {
        "horizon": "sentence",
        "distance": "energy distance of weighted sentence endings in the clusterer's space "
        "(not reached = one more point at sqrt 2), against a plain reference plan",
        "reference_rollouts": reference_rollouts,
        "reference_rollout_tokens": float(np.mean(reference_tokens)) if reference_tokens else None,
        "prefixes": n_prefixes,
        "repeats": repeats,
        "settings": {},
    }
    for name, config in configs.items():
        e, t = float(np.mean(errors[name])), float(np.mean(tokens[name]))
        out["settings"][name] = {
            "sampling": config.sampling,
            "rollouts": config.rollouts,
            "plan_error": e,
            "plan_error_se": float(np.std(errors[name], ddof=1) / np.sqrt(len(errors[name])))
            if len(errors[name]) > 1
            else None,
            "rollout_tokens": t,
            "plans": len(errors[name]),
            "stratified_plans": stratified[name],
            "error_x_tokens": e * t,
        }
    base_row = out["settings"][default]
    for row in out["settings"].values():
        row["error_ratio"] = (
            row["plan_error"] / base_row["plan_error"] if base_row["plan_error"] else None
        )
        row["error_x_tokens_ratio"] = (
            row["error_x_tokens"] / base_row["error_x_tokens"]
            if base_row["error_x_tokens"]
            else None
        )
    return out
