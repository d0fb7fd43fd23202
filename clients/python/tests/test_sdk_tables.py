"""A plan as rows (per snapshot and horizon, with its score) and as JSON."""

from __future__ import annotations

import csv
import io
import json

import foresight_client as fc
from sdk_helpers import PLAN, plan_body


def test_one_row_per_snapshot_and_horizon_with_its_score() -> None:
    plan = fc.Plan.model_validate(plan_body())
    rows = fc.plan_rows(plan)
    horizons = PLAN["config"]["horizons"]
    assert len(rows) == len(PLAN["snapshots"]) * len(horizons)
    assert [(r["position"], r["horizon"]) for r in rows[:3]] == [(0, h) for h in horizons]
    assert all(list(r) == list(fc.ROW_FIELDS) for r in rows)
    second = PLAN["snapshots"][1]
    row = next(
        r for r in rows if r["position"] == second["position"] and r["horizon"] == "sentence"
    )
    raw = second["horizons"]["sentence"]
    assert row["text_offset"] == second["text_offset"] and row["trigger"] == second["trigger"]
    assert row["top_candidate"] == raw["candidates"][0]["text"]
    assert row["top_probability"] == raw["candidates"][0]["probability"]
    assert row["candidates"] == len(raw["candidates"]) and row["entropy"] == raw["entropy"]
    assert row["tokens_to_end_mean"] == raw["tokens_to_end"]["mean"]
    assert (row["fresh"], row["carried"]) == (raw["fresh_rollouts"], raw["carried_rollouts"])
    score = next(
        s
        for s in PLAN["scores"]
        if s["position"] == second["position"] and s["horizon"] == "sentence"
    )
    assert row["log_score"] == score["log_score"] and row["top1"] == score["top1"]
    assert row["realised"] == score["realised"] and row["brier"] == score["brier"]


def test_rows_without_a_score_or_candidates_hold_none() -> None:
    body = plan_body()
    body["scores"] = []
    body["snapshots"][0]["horizons"]["user"]["candidates"] = []
    rows = fc.plan_rows(body)  # a plan's JSON object works too
    first_user = next(r for r in rows if r["horizon"] == "user")
    assert first_user["top_candidate"] is None and first_user["top_probability"] is None
    assert all(r["log_score"] is None and r["top1"] is None for r in rows)


def test_rows_go_to_csv_and_json_as_they_are() -> None:
    rows = fc.Plan.model_validate(plan_body()).rows()
    out = io.StringIO()
    writer = csv.DictWriter(out, fc.ROW_FIELDS)
    writer.writeheader()
    writer.writerows(rows)
    assert out.getvalue().splitlines()[0] == ",".join(fc.ROW_FIELDS)
    assert json.loads(json.dumps(rows)) == rows


def test_json_export_round_trips_with_unknown_fields() -> None:
    body = plan_body()
    body["from_the_future"] = [1, 2]
    plan = fc.Plan.model_validate(body)
    text = fc.plan_to_json(plan)
    assert json.loads(text)["from_the_future"] == [1, 2]
    again = fc.Plan.model_validate_json(text)
    assert again == plan and plan.to_json(indent=None) == fc.plan_to_json(again, indent=None)
    exported = json.loads(text)
    for key in ("id", "snapshots", "scores", "comparison", "forks", "previous_turn"):
        assert exported[key] == PLAN[key]
