"""A whole evaluation on the synthetic engine: rows, resume (also of a run stopped with
several conversations in flight), rows independent of the concurrency, report, page."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import pytest
from markov_engine import MarkovEngine

from bench.eval.command import evaluate, write_outputs
from bench.eval.figures import FIGURES
from bench.eval.prompts import EvalPrompt, load_prompts
from bench.eval.results import RESULTS, Results
from bench.eval.settings import EvalSettings
from planner import Plan
from planner.clustering import TextClusterer

SETTINGS = EvalSettings(rollouts=6, max_tokens=16, lookahead=10, refresh=2, clustering="text")


def _prompts(tmp_path: Path, generated: int = 8, followed: int = 3) -> list[EvalPrompt]:
    lines = [
        json.dumps({"id": f"g{i}", "kind": "chain", "prompt": " Yes."}) for i in range(generated)
    ]
    turn = [
        {"role": "user", "content": " Yes."},
        {"role": "assistant", "content": " The cat sat."},
        {"role": "user", "content": " No."},
    ]
    lines += [
        json.dumps({"id": f"f{i}", "kind": "multi-turn", "messages": turn}) for i in range(followed)
    ]
    path = tmp_path / "prompts.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return load_prompts(path)


def _run(
    prompts: list[EvalPrompt], results: Results, concurrency: int = 3
) -> tuple[MarkovEngine, str]:
    engine, progress = MarkovEngine(), io.StringIO()
    asyncio.run(
        evaluate(engine, prompts, SETTINGS, TextClusterer(), results, progress, concurrency)
    )
    return engine, progress.getvalue()


def test_a_run_writes_the_report_figures_and_page(tmp_path: Path) -> None:
    prompts = _prompts(tmp_path)
    results = Results(tmp_path / "out", SETTINGS.to_dict())
    _, progress = _run(prompts, results)
    assert "11/11" in progress  # the bar reached the end

    page = write_outputs(results, prompts, SETTINGS, {"wall_seconds": 1.0})
    out = tmp_path / "out"
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["rollouts"] == 6 and report["config"]["prompt_count"] == 11
    assert report["conversations"]["planned"] == 11 and report["conversations"]["failed"] == []
    assert list(report["horizons"]) == ["sentence", "paragraph", "turn", "user"]
    sentence = report["horizons"]["sentence"]
    assert sentence["scored"] > 0
    for key in ("climatology", "persistence", "plan_vs_ceiling", "ceiling_vs_climatology"):
        assert set(sentence["skill"][key]) >= {"skill", "interval"}
    assert sentence["skill"]["plan_vs_ceiling"]["n"] > 0
    assert (
        sentence["comparison"]["reliability"] and sentence["comparison"]["calibration_error"] >= 0
    )
    assert 0 <= sentence["novel"]["predicted"] <= 1 and 0 <= sentence["novel"]["realised"] <= 1
    bins = sentence["visibility"]["bins"]
    assert bins and all(0 <= b["probability"] <= 1 for b in bins)
    assert isinstance(sentence["visibility"]["visible_tokens"], int)
    assert report["horizons"]["user"]["scored"] > 0  # from the followed turns
    assert report["forks"]["at_forks"]["n"] + report["forks"]["elsewhere"]["n"] > 0
    assert report["implicit"]["total_variation"]["n"] > 0

    html = page.read_text()
    for name in FIGURES:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert html.count("data:image/png;base64,") == len(FIGURES)
    assert "sentence" in html and "calibration error" in html


def test_a_stopped_run_continues_where_it_stopped(tmp_path: Path) -> None:
    prompts = _prompts(tmp_path, generated=5, followed=1)
    out = tmp_path / "out"
    _run(prompts[:3], Results(out, SETTINGS.to_dict()))
    with (out / RESULTS).open("a") as f:
        f.write('{"id": "g3", "kind": "ch')  # killed while writing the fourth row
    before = (out / RESULTS).read_text().splitlines()[:3]

    results = Results(out, SETTINGS.to_dict())
    engine, progress = _run(prompts, results)

    lines = (out / RESULTS).read_text().splitlines()
    assert lines[:3] == before  # the finished rows are kept as they were
    ids = [json.loads(line)["id"] for line in lines]
    assert sorted(ids[3:]) == ["f0", "g3", "g4"] and sorted(ids) == sorted(p.id for p in prompts)
    assert "3/6" in progress  # the bar starts at what was done
    started = {r.split("-main")[0] for r in engine.priorities if r.endswith("-main")}
    assert len(started) == 2  # only g3 and g4 were generated again (f0 follows a given text)


def test_a_run_stopped_with_conversations_in_flight_keeps_whole_rows(tmp_path: Path) -> None:
    prompts = _prompts(tmp_path, generated=6, followed=2)
    out = tmp_path / "out"
    results = Results(out, SETTINGS.to_dict())

    async def stop_after_two() -> None:
        run = asyncio.create_task(
            evaluate(MarkovEngine(), prompts, SETTINGS, TextClusterer(), results, io.StringIO(), 3)
        )
        while len(results.rows) < 2:
            await asyncio.sleep(0.005)
        run.cancel()  # what Ctrl-C or SIGTERM do to the run
        with pytest.raises(asyncio.CancelledError):
            await run

    asyncio.run(stop_after_two())
    kept = [json.loads(line) for line in (out / RESULTS).read_text().splitlines()]
    assert 2 <= len(kept) < len(prompts)  # whole rows only: every line parses
    assert all("plan" in row for row in kept)

    _, progress = _run(prompts, Results(out, SETTINGS.to_dict()))
    ids = [json.loads(line)["id"] for line in (out / RESULTS).read_text().splitlines()]
    assert sorted(ids) == sorted(p.id for p in prompts)  # each conversation exactly once
    assert f"{len(kept)}/8" in progress and "8/8" in progress


def test_rows_do_not_depend_on_the_concurrency(tmp_path: Path) -> None:
    """Each conversation samples the same text from its own seeds, and is scored at the same
    points against the same endings, whether planned alone or beside three others. (Which
    older rollouts a refresh carries over depends on how far they got, i.e. on engine
    timing, with any concurrency: so the plans' numbers are compared by the report's
    intervals, not here.)"""
    prompts = _prompts(tmp_path, generated=4, followed=1)
    one, four = Results(tmp_path / "one", SETTINGS.to_dict()), Results(tmp_path / "four", {})
    _run(prompts, one, concurrency=1)
    _run(prompts, four, concurrency=4)

    def by_id(results: Results) -> dict[str, tuple[str, list[tuple[int, str, str]]]]:
        plans = {r["id"]: Plan.model_validate(r["plan"]) for r in results.rows}
        return {
            k: (p.text, [(s.position, s.horizon, s.realised) for s in p.scores])
            for k, p in plans.items()
        }

    assert by_id(one) == by_id(four)
