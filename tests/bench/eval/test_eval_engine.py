"""One small evaluation on the session's real engine, through to the HTML page: the
report's shape, not its numbers (those belong in `foresight eval`'s own runs)."""

from __future__ import annotations

import io
import json
from pathlib import Path

from live_server import LiveServer

from bench.eval.command import evaluate, write_outputs
from bench.eval.figures import FIGURES
from bench.eval.prompts import load_prompts
from bench.eval.results import Results
from bench.eval.settings import EvalSettings
from planner.clustering import TextClusterer


def test_eval_on_the_real_engine(live: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "prompts.jsonl"
    turn = [
        {"role": "user", "content": "What is 2 plus 2?"},
        {"role": "assistant", "content": "2 plus 2 is 4."},
        {"role": "user", "content": "Thanks!"},
    ]
    path.write_text(
        json.dumps({"id": "fact", "kind": "facts", "prompt": "Name a colour. One sentence."})
        + "\n"
        + json.dumps({"id": "turn", "kind": "multi-turn", "messages": turn})
        + "\n"
    )
    prompts = load_prompts(path)
    settings = EvalSettings(rollouts=3, max_tokens=16, lookahead=12, refresh=4, clustering="text")
    results = Results(tmp_path / "out", settings.to_dict())
    progress = io.StringIO()
    live.run(evaluate(live.engine, prompts, settings, TextClusterer(), results, progress, 2))

    assert sorted(r["id"] for r in results.rows) == ["fact", "turn"]  # both at once
    assert all("plan" in r for r in results.rows), results.rows
    page = write_outputs(results, prompts, settings, {})
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["conversations"]["planned"] == 2
    assert "user" in report["horizons"] and "sentence" in report["horizons"]
    assert report["horizons"]["user"]["conversations"] == 1
    assert report["implicit"]["total_variation"]["n"] >= 1  # real logprobs beside the plan
    assert page.read_text().count("data:image/png;base64,") == len(FIGURES)
    assert "2/2" in progress.getvalue()
