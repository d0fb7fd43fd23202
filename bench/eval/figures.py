"""The report's figures as PNG files, drawn from ``report.json`` alone.

``matplotlib.figure.Figure`` renders with the Agg canvas without pyplot, so no backend is
selected process-wide and no window can open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

COLOURS = {"sentence": "#1f77b4", "paragraph": "#ff7f0e", "turn": "#2ca02c", "user": "#d62728"}
BASELINES = (
    ("climatology", "vs climatology"),
    ("persistence", "vs persistence"),
    ("plan_vs_ceiling", "vs ceiling"),
    ("ceiling_vs_climatology", "ceiling vs climatology"),
)


def _err(value: float | None, interval: list[float] | None) -> tuple[float, list[float]]:
    if value is None:
        return math.nan, [0.0, 0.0]
    if not interval:
        return value, [0.0, 0.0]
    return value, [max(value - interval[0], 0.0), max(interval[1] - value, 0.0)]


def skill(report: dict[str, Any], fig: Figure) -> None:
    ax = fig.subplots()
    horizons = list(report["horizons"])
    width = 0.8 / len(BASELINES)
    for j, (key, label) in enumerate(BASELINES):
        for i, h in enumerate(horizons):
            entry = report["horizons"][h]["skill"][key]
            v, e = _err(entry["skill"], entry["interval"])
            ax.bar(i + j * width, v, width, yerr=[[e[0]], [e[1]]], capsize=3,
                   color=f"C{j}", label=label if i == 0 else None)  # fmt: skip
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(horizons))], horizons)
    ax.set_ylabel("energy-score skill (1 - ES / ES_baseline)")
    ax.set_title("Skill per horizon, 95% bootstrap intervals over conversations")
    _legend(ax)


def _legend(ax: Axes) -> None:
    # loc given: matplotlib warns (an error under the tests' -W error) when its default
    # "best" placement takes over a second, which a loaded machine can make it do.
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="best")


def _grid(fig: Figure, n: int) -> list[Axes]:
    axes = fig.subplots(1, max(n, 1), squeeze=False)[0]
    return list(axes)


def reliability(report: dict[str, Any], fig: Figure) -> None:
    horizons = list(report["horizons"])
    for ax, h in zip(_grid(fig, len(horizons)), horizons, strict=False):
        c = report["horizons"][h]["comparison"]
        bins = c["reliability"]
        ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
        ax.scatter([b["predicted"] for b in bins], [b["realised"] for b in bins],
                   s=[10 + 3 * math.sqrt(b["n"]) for b in bins], color=COLOURS.get(h))  # fmt: skip
        ece = c["calibration_error"]
        ax.set_title(f"{h}: ECE {ece:.3f}" if ece is not None else h, fontsize=9)
        ax.set_xlabel("forecast probability")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
    fig.axes[0].set_ylabel("realised frequency")


def novel(report: dict[str, Any], fig: Figure) -> None:
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    for h, entry in report["horizons"].items():
        bins = entry["novel"]["bins"]
        ax.plot([b["predicted"] for b in bins], [b["realised"] for b in bins], "o-",
                color=COLOURS.get(h), label=f"{h} (n={entry['novel']['n']})")  # fmt: skip
    ax.set_xlabel("novel: predicted probability of an unseen ending")
    ax.set_ylabel("share of endings that matched no candidate")
    ax.set_title("Unseen mass, predicted vs realised")
    _legend(ax)


def visibility(report: dict[str, Any], fig: Figure) -> None:
    left, right = fig.subplots(1, 2)
    for h, entry in report["horizons"].items():
        for ax, key in ((left, "probability"), (right, "energy_skill_climatology")):
            bins = [b for b in entry["visibility"]["bins"] if b[key] is not None]
            if not bins:
                continue
            vals = [_err(b[key], b[f"{key}_interval"]) for b in bins]
            ax.errorbar([b["lower"] for b in bins], [v for v, _ in vals],
                        yerr=[[e[0] for _, e in vals], [e[1] for _, e in vals]], marker="o",
                        capsize=2, color=COLOURS.get(h), label=h)  # fmt: skip
    left.axhline(0.5, color="grey", lw=0.8, ls="--")
    left.set_ylabel("plan's probability of the ending that came")
    right.axhline(0, color="black", lw=0.8)
    right.set_ylabel("energy-score skill vs climatology")
    for ax in (left, right):
        ax.set_xlim(0.8, 100)
        ax.set_xscale("log", base=2)
        ax.set_xlabel("tokens remaining to the ending")
        _legend(ax)
    fig.suptitle("How early each horizon's ending becomes visible")


def commitment(report: dict[str, Any], fig: Figure) -> None:
    left, middle, right = fig.subplots(1, 3)
    for h, entry in report["horizons"].items():
        rows = entry["commitment"]["entropy"]
        x = [r["lower"] for r in rows]
        left.plot(x, [r["mean"] for r in rows], "o-", color=COLOURS.get(h), label=h)
    left.set_xlim(0.8, 100)
    left.set_xscale("log", base=2)
    left.set_xlabel("tokens remaining to the ending")
    left.set_ylabel("plan entropy (nats, Chao-Shen)")
    _legend(left)
    into = [
        n for e in report["horizons"].values() for n in e["commitment"]["fork_tokens_into_sentence"]
    ]
    middle.hist(into, bins=range(0, max(into, default=0) + 2), color="C4")
    middle.set_xlabel("tokens into the sentence")
    middle.set_title("where forks fall", fontsize=9)
    forks = report["forks"]
    data = [forks["at_forks_values"], forks["elsewhere_values"]]
    right.boxplot([d or [math.nan] for d in data], tick_labels=["at forks", "elsewhere"])
    right.set_ylabel("next-token entropy (nats)")
    fig.suptitle("Commitment: entropy along the text, and forks")


def implicit(report: dict[str, Any], fig: Figure) -> None:
    left, right = fig.subplots(1, 2)
    imp = report["implicit"]
    left.hist(imp["total_variation_values"], bins=20, range=(0, 1), color="C5")
    left.set_xlabel("total variation: rollouts' first tokens vs logprobs")
    left.set_ylabel("snapshots")
    for h in report["horizons"]:
        pts = [p for p in imp["realised"] if p[0] == h]
        right.scatter([p[1] for p in pts], [p[2] for p in pts], s=8, alpha=0.6,
                      color=COLOURS.get(h), label=h)  # fmt: skip
    right.set_xlabel("model log-probability of the realised ending")
    right.set_ylabel("plan's probability of its cluster (0: none)")
    _legend(right)
    fig.suptitle("Explicit plan vs the model's implicit state")


FIGURES: dict[str, tuple[str, Callable[[dict[str, Any], Figure], None], tuple[float, float]]] = {
    "skill": ("Skill against the baselines", skill, (7, 4)),
    "reliability": ("Reliability diagrams", reliability, (12, 3.4)),
    "novel": ("Unseen mass", novel, (5.5, 4.5)),
    "visibility": ("Visibility", visibility, (11, 4)),
    "commitment": ("Commitment", commitment, (13, 4)),
    "implicit": ("Explicit vs implicit", implicit, (11, 4)),
}


def draw_all(report: dict[str, Any], out: Path) -> list[tuple[str, str]]:
    """Write every figure as ``out/<name>.png``; returns (file name, title) pairs."""
    written = []
    for name, (title, draw, size) in FIGURES.items():
        fig = Figure(figsize=size, layout="constrained")
        draw(report, fig)
        path = out / f"{name}.png"
        fig.savefig(path, dpi=90)
        written.append((path.name, title))
    return written
