"""Calibration of the plan's probabilities on the Markov engine's exact ending laws (issue #11).

For each chain (a one-token prefix, horizon and temperature), draws plans of K = 8 endings,
summarises them with the planner's own ``summarise`` and ``Match``, and prints per
reliability bin: n, mean predicted, realised frequency and the *true* expected frequency
(from the exact law), then per estimator of the candidates' probabilities: chi-square GOF
p-values of realised vs predicted and of realised vs true, calibration error, mean log
score and mean novel against the true unseen probability.

    nice -n 19 env PYTHONPATH=$PWD:$PWD/clients/python .venv/bin/python \\
        scripts/calibration_study.py [--plans 3000] [--false-alarm-seeds 200]

``--false-alarm-seeds N`` instead measures how often the exactness test (realised vs true)
rejects at alpha = 1e-3 over N seeds of the test's own set-up.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from scipy.stats import kstest

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "planner")]

from test_calibration import (  # noqa: E402  (the test module is the study's source of truth)
    STATES,
    Plan,
    draw_plans,
    ending_law,
    reliability_gof,
)

from planner.calibration import Forecast, calibration_error  # noqa: E402
from planner.coverage import adjusted_probabilities, coverage  # noqa: E402

Estimator = Callable[[Sequence[int]], tuple[list[float], float]]
ALPHA = 1e-3

# name: (prefix token, horizon, temperature, max_tokens)
CHAINS: dict[str, tuple[str, str, float, int]] = {
    **{f"sent{s.strip() or s}": (s, "sentence", 1.0, 24) for s in STATES},
    "concentrated( No,T.5)": (" No", "sentence", 0.5, 24),
    "flat( The,T2)": (" The", "sentence", 2.0, 24),
    "longtail(.,turn12)": (".", "turn", 1.0, 12),
}


def absolute_to_coverage(counts: Sequence[int]) -> tuple[list[float], float]:
    """Absolute discounting with the unseen mass 1 - C: p_i = k_i / n - (1 - C) / S."""
    n, c, s = sum(counts), coverage(counts), len(counts)
    return [k / n - (1.0 - c) / s for k in counts], 1.0 - c


def pitman_yor(counts: Sequence[int]) -> tuple[list[float], float]:
    """Absolute discounting with d = f1 / (f1 + 2 f2) (Kneser-Ney), unseen mass d S / n."""
    n, s = sum(counts), len(counts)
    f1 = max(sum(k == 1 for k in counts), 1)
    f2 = sum(k == 2 for k in counts)
    d = min(f1 / (f1 + 2 * f2), n / (n + 1))  # below 1, so singletons keep p > 0
    return [(k - d) / n for k in counts], d * s / n


def halfway(counts: Sequence[int]) -> tuple[list[float], float]:
    """Half proportional, half absolute discounting to 1 - C."""
    a, novel = adjusted_probabilities(counts)
    b, _ = absolute_to_coverage(counts)
    return [(x + y) / 2 for x, y in zip(a, b, strict=True)], novel


def krichevsky_trofimov(counts: Sequence[int]) -> tuple[list[float], float]:
    """C shared in proportion to k_i + 1/2 (add-half smoothing within the seen mass)."""
    n, c, s = sum(counts), coverage(counts), len(counts)
    return [c * (k + 0.5) / (n + 0.5 * s) for k in counts], 1.0 - c


ESTIMATORS: dict[str, Estimator] = {
    "product C k/n": adjusted_probabilities,
    "abs->1-C": absolute_to_coverage,
    "half": halfway,
    "PY d=f1/(f1+2f2)": pitman_yor,
    "C (k+1/2)/(n+S/2)": krichevsky_trofimov,
}


def forecasts(plans: Sequence[Plan], estimator: Estimator) -> list[list[float]]:
    out = []
    for p in plans:
        probs, novel = estimator(p.counts)
        assert all(x > 0 for x in probs) and novel > 0
        assert abs(math.fsum(probs) + novel - 1.0) < 1e-9
        out.append([*probs, novel])
    return out


def table(pred: Sequence[Sequence[float]], plans: Sequence[Plan]) -> None:
    rows: dict[int, list[float]] = {}
    for f, p in zip(pred, plans, strict=True):
        for i, (x, t) in enumerate(zip(f, p.truth, strict=True)):
            r = rows.setdefault(min(int(x * 10), 9), [0, 0.0, 0.0, 0.0])
            r[0] += 1
            r[1] += x
            r[2] += i == p.match.outcome
            r[3] += t
    print("      bin      n  predicted  realised  true-expected")
    for b in sorted(rows):
        n, x, y, t = rows[b]
        edges = f"[{b / 10:.1f},{(b + 1) / 10:.1f})"
        print(f"  {edges}  {n:6.0f}  {x / n:9.3f}  {y / n:8.3f}  {t / n:13.3f}")


def study(plans_per_chain: int) -> None:
    laws = {name: ending_law(s, t, h, m) for name, (s, h, t, m) in CHAINS.items()}
    populations = {name: [law] for name, law in laws.items()}
    populations["mix of STATES (the test's)"] = [laws[f"sent{s.strip() or s}"] for s in STATES]
    populations["mix of all chains above"] = list(laws.values())
    single: dict[str, list[Plan]] = {}
    for name, pop in populations.items():
        plans = draw_plans(pop, plans_per_chain, seed=7)
        if name in laws:
            single[name] = plans
        outcomes = [p.match.outcome for p in plans]
        truth = [p.truth for p in plans]
        unseen = np.mean([p.truth[-1] for p in plans])
        came_unseen = np.mean([p.match.index is None for p in plans])
        _, _, p_true = reliability_gof([p.match.probs for p in plans], truth, outcomes)
        print(
            f"\n== {name}: {plans_per_chain} plans, true unseen {unseen:.3f}, came unseen "
            f"{came_unseen:.3f}; GOF realised vs true (product's bins) p = {p_true:.3g}"
        )
        for est_name, est in ESTIMATORS.items():
            pred = forecasts(plans, est)
            if est_name == "product C k/n":
                assert all(np.allclose(a, p.match.probs) for a, p in zip(pred, plans, strict=True))
            if est_name in ("product C k/n", "abs->1-C"):
                print(f"  {est_name}:")
                table(pred, plans)
            stat, df, p_pred = reliability_gof(pred, pred, outcomes)
            _, _, p_tr = reliability_gof(pred, truth, outcomes)
            ece = calibration_error([Forecast(f, o) for f, o in zip(pred, outcomes, strict=True)])
            logs = np.mean([math.log(f[o]) for f, o in zip(pred, outcomes, strict=True)])
            novel = np.mean([f[-1] for f in pred])
            flag = "PASS" if p_pred > ALPHA else "fail"
            print(
                f"  {est_name:18} GOF vs predicted chi2={stat:7.1f} df={df} p={p_pred:9.3g} "
                f"{flag}  vs true p={p_tr:7.3g}  ECE={ece:.4f}  log={logs:.4f}  "
                f"novel={novel:.3f} (true {unseen:.3f})"
            )
    profiles(single)


def profiles(single: dict[str, list[Plan]], shown: int = 6, least: int = 50) -> None:
    """The same counts mean different truths on different chains: no function of the
    counts can be calibrated on each of them."""
    truth: dict[tuple[int, ...], dict[str, list[float]]] = {}
    for name, plans in single.items():
        for p in plans:
            truth.setdefault(tuple(p.counts), {}).setdefault(name, []).append(p.truth[0])
    common = sorted(truth, key=lambda k: -sum(map(len, truth[k].values())))[:shown]
    print("\n== true probability of the most-seen cluster, per count profile and chain")
    for key in common:
        cells = [
            f"{n} {np.mean(v):.2f} (n={len(v)})" for n, v in truth[key].items() if len(v) >= least
        ]
        print(f"  {key}: " + "; ".join(cells))


def false_alarms(seeds: int, reps: int) -> None:
    """How often the exactness test rejects at ALPHA with the test's own set-up."""
    laws = [ending_law(s) for s in STATES]
    ps = []
    for seed in range(seeds):
        plans = draw_plans(laws, reps, seed=1000 + seed)
        ps.append(
            reliability_gof(
                [p.match.probs for p in plans],
                [p.truth for p in plans],
                [p.match.outcome for p in plans],
            )[2]
        )
    ps_a = np.array(ps)
    for a in (ALPHA, 0.01, 0.05, 0.1):
        print(f"alpha={a}: rejected {int((ps_a <= a).sum())} of {seeds} ({(ps_a <= a).mean():.3f})")
    # under the null the p-values are uniform: the whole curve, not only its far tail
    ks = kstest(ps_a, "uniform").pvalue
    print(f"min p {ps_a.min():.3g}; KS test of uniform p-values: p = {ks:.3g}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plans", type=int, default=3000, help="plans per chain")
    ap.add_argument("--false-alarm-seeds", type=int, default=0)
    ap.add_argument("--reps", type=int, default=1500, help="plans per seed (false alarms)")
    args = ap.parse_args()
    if args.false_alarm_seeds:
        false_alarms(args.false_alarm_seeds, args.reps)
    else:
        study(args.plans)


if __name__ == "__main__":
    main()
