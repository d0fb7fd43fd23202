"""The report as tables on the terminal (rich) and as a JSON file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.1f}"


def _num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


_LABELS = {"carried_vs_expected": "carried_fraction / expected"}


def _pair(summary: dict[str, float | None], ms: bool = True) -> str:
    fmt = _ms if ms else _num
    return f"{fmt(summary['p50'])} / {fmt(summary['p90'])}"


def plan_settings(entry: dict[str, Any]) -> str:
    """``in-flight 4 p2 t4``: the plan settings a run used (refresh_every by initial)."""
    every = " ".join(f"{h[0]}{n}" for h, n in (entry.get("refresh_every") or {}).items())
    return f"in-flight {entry.get('rollouts_in_flight')}" + (f" {every}" if every else "")


# One row per metric, one column per configuration (narrow enough for 100 columns).
_ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    ("plain s", lambda r: _num(r["plain"]["wall_seconds"])),
    (
        "foresight s (text)",
        lambda r: f"{_num(r['wall_seconds'])} ({_num(r['text_seconds'])})",
    ),
    ("naive s", lambda r: _num(r["naive"]["wall_seconds"]) if r["naive"] else "-"),
    ("limit s (batch)", lambda r: f"{_num(r['limit_seconds'])} ({r['limit_batch']})"),
    ("TTFT ms plain", lambda r: _pair(r["plain"]["ttft_seconds"])),
    ("TTFT ms foresight", lambda r: _pair(r["ttft_seconds"])),
    ("ITL ms plain", lambda r: _pair(r["plain"]["itl_seconds"])),
    ("ITL ms foresight", lambda r: _pair(r["itl_seconds"])),
    ("snapshots", lambda r: str(r["snapshots"])),
    (
        "plans per horizon",
        lambda r: " ".join(f"{h[0]}{n}" for h, n in r["horizon_plans"].items()),
    ),
    ("snapshot s", lambda r: _pair(r["snapshot_latency_seconds"], ms=False)),
    (
        "rollout tok (naive)",
        lambda r: (
            f"{r['rollout_tokens']}" + (f" ({r['naive']['rollout_tokens']})" if r["naive"] else "")
        ),
    ),
    (
        "carried / expected",
        lambda r: f"{_num(r['carried_fraction'])} / {_num(r['expected_carried_fraction'])}",
    ),
    ("rollout prompt cached", lambda r: _num(r["rollout_prompt_cached_fraction"])),
    ("itl_ratio", lambda r: _num(r["itl_ratio"])),
    ("completion_ratio", lambda r: _num(r["completion_ratio"])),
    ("speedup", lambda r: _num(r["speedup"])),
    ("limit_ratio", lambda r: _num(r["limit_ratio"])),
]


def render(report: dict[str, Any], console: Console | None = None) -> None:
    """Print the sweep, the configurations with their ratios, the targets, and servers."""
    console = console or Console()
    sweep = Table(title="limit: decode calibration (this engine)")
    for col in ("batch", "step ms", "tokens/s"):
        sweep.add_column(col, justify="right")
    for p in report.get("limit", {}).get("sweep", []):
        sweep.add_row(str(p["batch"]), _ms(p["step_seconds"]), f"{p['tokens_per_second']:.1f}")
    console.print(sweep)

    runs = Table(
        title="plain vs foresight vs naive (same prompts, seeds, lengths)",
        caption="latencies are p50 / p90; snapshot = refresh to snapshot",
    )
    runs.add_column("metric")
    for r in report.get("runs", []):
        label = f"K={r['rollouts']} {','.join(h[0] for h in r['horizons'])}/{r['refresh']}"
        runs.add_column(f"{label}\n{plan_settings(r)}", justify="right")
    for name, cell in _ROWS:
        runs.add_row(name, *(cell(r) for r in report.get("runs", [])))
    console.print(runs)

    if report.get("targets"):
        targets = Table(title="targets (K=8)")
        for col in ("horizons", "refresh", "plan", "target", "value", "met"):
            targets.add_column(col)
        for t in report["targets"]:
            met = {True: "[green]yes[/]", False: "[red]no[/]", None: "-"}[t["met"]]
            targets.add_row(
                ",".join(t["horizons"]),
                t["refresh"],
                plan_settings(t),
                f"{_LABELS.get(t['metric'], t['metric'])} {t['op']} {t['bound']}",
                _num(t["value"]),
                met,
            )
        console.print(targets)
    if report.get("plan_error"):
        render_plan_error(report["plan_error"], console)
    if report.get("servers"):
        render_servers(report["servers"], console)
    if report.get("skipped_stages"):
        budget = report.get("settings", {}).get("time_budget_seconds")
        console.print(
            f"[yellow]skipped to end within the time budget ({budget} s):[/] "
            + "; ".join(report["skipped_stages"])
        )
    load = (report.get("machine") or {}).get("load_average")
    if load:
        console.print(f"load average {load[0]:.2f} on {report['machine']['cpus']} CPUs")


def render_plan_error(errors: dict[str, Any], console: Console) -> None:
    """plan_error and rollout_tokens per setting, side by side."""
    table = Table(
        title=f"plan error at a cost ({errors['horizon']}, {errors['prefixes']} prefixes x "
        f"{errors['repeats']} plans, reference {errors['reference_rollouts']} rollouts)",
        caption="plan_error: energy distance to the reference (± s.e.); lower is better",
    )
    for col in ("setting", "K", "plan_error", "rollout_tokens", "error x tokens", "vs default"):
        table.add_column(col, justify="right")
    for name, s in errors["settings"].items():
        se = f" ± {s['plan_error_se']:.3f}" if s.get("plan_error_se") is not None else ""
        table.add_row(
            name,
            str(s["rollouts"]),
            f"{s['plan_error']:.3f}{se}",
            _num(s["rollout_tokens"], 0),
            _num(s["error_x_tokens"], 1),
            _num(s["error_x_tokens_ratio"]),
        )
    console.print(table)


def render_servers(servers: dict[str, Any], console: Console) -> None:
    table = Table(title="server layer: plain streaming chat through each server")
    for col in ("server", "requests", "tokens", "TTFT p50/p90 ms", "ITL p50/p90 ms", "tok/s"):
        table.add_column(col, justify="right")
    for name, s in servers.items():
        if not isinstance(s, dict) or "ttft_seconds" not in s:
            continue
        t, i = s["ttft_seconds"], s["itl_seconds"]
        table.add_row(
            name,
            str(s["requests"]),
            str(s["tokens"]),
            f"{_ms(t['p50'])}/{_ms(t['p90'])}",
            f"{_ms(i['p50'])}/{_ms(i['p90'])}",
            _num(s["tokens_per_second"], 1),
        )
    console.print(table)


def render_load(load: dict[str, Any], console: Console | None = None) -> None:
    """The load mode's percentiles (times in ms except whole requests)."""
    console = console or Console()
    table = Table(title=f"load: {load['requests']} planned streams, {load['concurrency']} at once")
    table.add_column("metric")
    table.add_column("p50 / p90", justify="right")
    for name, key, ms in (
        ("TTFT ms", "ttft_seconds", True),
        ("ITL ms", "itl_seconds", True),
        ("snapshot lag behind text s", "snapshot_lag_seconds", False),
        ("refresh to snapshot (server) s", "snapshot_latency_seconds", False),
        ("request s", "completion_seconds", False),
    ):
        table.add_row(name, _pair(load[key], ms))
    table.add_row("tokens/s (all streams)", _num(load["tokens_per_second"], 1))
    table.add_row("snapshots (degraded)", f"{load['snapshots']} ({load['degraded_snapshots']})")
    table.add_row("streams without a snapshot", str(load["streams_without_snapshots"]))
    table.add_row("errors", str(load["errors"]))
    console.print(table)
    baselines, ratios = load.get("baselines"), load.get("ratios")
    if not baselines or not ratios:
        return
    side = Table(title="beside the baselines (same server, one after the other)")
    for column in ("", "plain streams", "planned, one at a time", "planned"):
        side.add_column(column, justify="right")
    runs = (baselines["plain"], baselines["single"], load)
    side.add_row("requests / at once", *(f"{r['requests']} / {r['concurrency']}" for r in runs))
    side.add_row("ITL ms p50 / p90", *(_pair(r["itl_seconds"], True) for r in runs))
    lags = (_pair(r["snapshot_lag_seconds"], False) for r in runs)
    side.add_row("snapshot lag s p50 / p90", *lags)
    console.print(side)
    console.print(
        f"ITL planned / plain: mean {_num(ratios['itl_mean_vs_plain'], 2)}, "
        f"p90 {_num(ratios['itl_p90_vs_plain'], 2)}; snapshot lag p90 at "
        f"{load['concurrency']} / alone: {_num(ratios['snapshot_lag_p90_vs_single'], 2)}"
    )


def write_json(report: Any, path: str | Path) -> None:
    """Write atomically, so that an interrupted run never leaves half a report."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
