"""The Grafana dashboard asks only for metrics that the real server exports.

Every PromQL expression of the dashboard (panels and variables) is reduced to the
metric names it reads; each must be a sample name of a family on the live server's
/metrics (foresight_* and the embedded engine's re-exported vllm:*), so that no panel
stays empty because of a typo or a metric that was renamed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_server import LiveServer
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.engine

DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "dashboards" / "foresight.json"
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
    "gauge": ("",),
}
_OPERATORS = {"and", "or", "unless", "bool", "offset"}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (functions, labels and ranges removed)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    e = re.sub(r"\{[^}]*\}", "", e)
    e = re.sub(r"\[[^\]]*\]", "", e)
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        if e[m.end() :].lstrip().startswith("(") or m.group() in _OPERATORS:
            continue  # a function or an operator
        names.add(m.group())
    return names


def expressions(dashboard: dict[str, Any]) -> dict[str, str]:
    """Every query of the dashboard, keyed by where it is."""
    found = {
        f"{p['title']} / {t['refId']}": t["expr"]
        for p in dashboard["panels"]
        for t in p.get("targets", [])
    }
    for var in dashboard["templating"]["list"]:
        query = var["query"]["query"]
        found[f"${var['name']}"] = re.sub(r"^label_values\((\w+),.*\)$", r"\1", query)
    return found


def exported(metrics_text: str) -> set[str]:
    names = set()
    for family in text_string_to_metric_families(metrics_text):
        names |= {family.name + s for s in _SUFFIXES.get(family.type, ("",))}
    return names


def test_metric_names_are_read_from_promql() -> None:
    expr = (
        "histogram_quantile(0.95, sum by (le, route) (rate(vllm:inter_token_latency_seconds_bucket"
        '{instance=~"$instance", x="a{b}"}[$__rate_interval]))) / on (x) foresight_x_total'
    )
    assert metric_names(expr) == {"vllm:inter_token_latency_seconds_bucket", "foresight_x_total"}


def test_every_dashboard_query_reads_exported_metrics(live: LiveServer) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    text = httpx.get(f"{live.url}/metrics", timeout=30).text
    available = exported(text)
    used: set[str] = set()
    for where, expr in expressions(dashboard).items():
        names = metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        missing = names - available
        assert not missing, f"{where}: {sorted(missing)} not on /metrics"
        used |= names
    # What the issue asked the dashboard to show, by the metric that shows it.
    wanted = {
        "foresight_http_requests_total",  # requests and errors
        "foresight_generated_tokens_total",  # tokens/s
        "foresight_time_to_first_token_seconds_bucket",  # TTFT
        "vllm:inter_token_latency_seconds_bucket",  # ITL
        "foresight_plan_latency_seconds_bucket",
        "foresight_rollouts_started_total",  # fresh
        "foresight_rollouts_carried_total",  # carried
        "foresight_rollout_cached_prompt_tokens_total",  # prefix-cache hits
        "foresight_plan_log_score_sum",
        "foresight_plan_top1_total",
        "foresight_plan_forks_total",
        "foresight_store_errors_total",
        "vllm:kv_cache_usage_perc",
        "vllm:num_requests_waiting",  # the engine's queue
        "foresight_requests_waiting",  # the main text's queue (the HPA's metric)
        "foresight_rollout_budget_in_use",  # the rollout budget shared by plans
        "foresight_plan_degraded_snapshots_total",  # plans short of their rollouts
        "foresight_plan_late_snapshots_total",  # snapshots after the text they predict
    }
    assert wanted <= used, sorted(wanted - used)
