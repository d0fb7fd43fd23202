"""``foresight bench``'s command-line choices as what the benchmark measures: plan
configurations, prompts, quick settings (pure: no engine, no server)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from bench.suite import DEFAULT_PROMPTS, SWEEP_BATCHES, BenchSettings
from planner.config import DEFAULT_HORIZONS, HORIZON_ORDER, Horizon, PlanConfig

# The three configurations the targets name (K comes from --rollouts, default 8).
TARGET_CONFIGS: tuple[tuple[tuple[Horizon, ...], Literal["sentence", "token"]], ...] = (
    (("sentence",), "sentence"),
    (("sentence", "paragraph", "turn"), "sentence"),
    (("sentence",), "token"),
)
QUICK_PROMPTS = 2
QUICK_MAX_TOKENS = 32
QUICK_SWEEP_TOKENS = 24
# Refresh at every token costs K fresh-or-carried rollouts per token (~10,000 rollout tokens
# for 2 x 48 tokens: most of the old --quick); a shorter text still measures carry-over.
QUICK_TOKEN_REFRESH_TOKENS = 16
QUICK_PLAN_ERROR_PREFIXES = 1  # per prompt
QUICK_PLAN_ERROR_REPEATS = 3
# --quick ends within this many seconds of its start, engine start included: a stage that
# would not fit is skipped and named (the slow AVX2 kind of machine).
QUICK_TIME_BUDGET = 300.0


def parse_refresh(value: str) -> Literal["sentence", "token"] | int:
    if value.isdigit():
        return int(value)
    if value not in ("sentence", "token"):
        raise ValueError(f"refresh must be sentence, token or a number, not {value!r}")
    return value  # type: ignore[return-value]


def parse_counts(value: str) -> list[int]:
    """``4,8`` -> [4, 8] (positive integers)."""
    counts = [int(v) for v in value.split(",") if v.strip()]
    if not counts or min(counts) < 1:
        raise ValueError(f"expected positive integers separated by commas, not {value!r}")
    return counts


def parse_refresh_every(value: str) -> dict[str, int]:
    """``turn=4,paragraph=2`` -> {"turn": 4, "paragraph": 2}; ``every`` -> {} (every
    horizon at every refresh point)."""
    if value.strip() == "every":
        return {}
    out: dict[str, int] = {}
    for part in value.split(","):
        name, sep, n = part.partition("=")
        if not sep or not n.strip().isdigit():
            raise ValueError(f"--refresh-every takes horizon=N pairs or 'every', not {part!r}")
        if name.strip() not in HORIZON_ORDER:
            raise ValueError(f"--refresh-every: '{name.strip()}' is not a horizon")
        out[name.strip()] = int(n)
    return out


def configs(
    horizons: str | None,
    refresh: str | None,
    *,
    every: Sequence[dict[str, int] | None] = (None,),
    in_flight: Sequence[int | None] = (None,),
    **common: Any,
) -> list[PlanConfig]:
    """The configurations to measure: the three target ones, or the one --horizons and
    --refresh name; times each --refresh-every and each --in-flight value given.

    ``common`` holds plan fields for all of them (rollouts, max_lookahead_tokens, ...);
    a ``refresh_every`` applies to the horizons each configuration plans (None: default).
    """
    chosen: list[tuple[Sequence[str], str | int]]
    if horizons is None and refresh is None:
        chosen = list(TARGET_CONFIGS)
    else:
        named = tuple(h.strip() for h in horizons.split(",") if h.strip()) if horizons else ()
        chosen = [(named or DEFAULT_HORIZONS, parse_refresh(refresh or "sentence"))]
    out: list[PlanConfig] = []
    for h, r in chosen:
        for cadence in every:
            for n in in_flight:
                fields = {
                    "horizons": h,
                    "refresh": r,
                    "refresh_every": None
                    if cadence is None
                    else {k: v for k, v in cadence.items() if k in h},
                    "rollouts_in_flight": n,
                    **common,
                }
                config = PlanConfig.model_validate(fields)
                if config not in out:  # a cadence of horizons it does not plan changes nothing
                    out.append(config)
    return out


def plan_body(config: PlanConfig) -> dict[str, Any]:
    """The request's ``plan`` field for ``config`` (load mode)."""
    return config.model_dump(
        mode="json",
        include={
            "rollouts",
            "horizons",
            "refresh",
            "max_lookahead_tokens",
            "clustering",
            "rollouts_in_flight",
            "refresh_every",
        },
    )


def load_prompts(path: str | None) -> list[str]:
    """One user message per line; blank lines and lines starting with # are skipped."""
    if path is None:
        return list(DEFAULT_PROMPTS)
    lines = Path(path).read_text().splitlines()
    prompts = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not prompts:
        raise ValueError(f"no prompts in {path}")
    return prompts


def quick_settings(
    settings: BenchSettings, max_tokens: int | None, sweep_tokens: int | None
) -> BenchSettings:
    """--quick: fewer prompts and tokens, naive only where a target needs it, the sweep at
    the batches the limit reads (1 and 1 + K) unless others were asked for: within 5
    minutes on a slow AVX2 machine (engine start included)."""
    settings.prompts = list(settings.prompts)[:QUICK_PROMPTS]
    settings.max_tokens = max_tokens or QUICK_MAX_TOKENS
    settings.token_refresh_tokens = max_tokens or QUICK_TOKEN_REFRESH_TOKENS
    if tuple(settings.sweep_batches) == SWEEP_BATCHES:
        batches = {1, *(1 + c.rollouts for c in settings.configs)}
        settings.sweep_batches = sorted(batches)
    settings.sweep_tokens = sweep_tokens or QUICK_SWEEP_TOKENS
    settings.naive_only_for_targets = settings.naive == "auto"
    settings.plan_error_prefixes = QUICK_PLAN_ERROR_PREFIXES
    settings.plan_error_repeats = QUICK_PLAN_ERROR_REPEATS
    return settings


def sweep_batches(text: str) -> Sequence[int]:
    return parse_counts(text)
