"""``foresight eval`` on the command line: bad input is one message and exit 2 before any
engine starts; a finished run's report is written again without an engine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bench.eval.command import run
from bench.eval.results import RESULTS
from planner.engine.config import EngineConfig
from server.cli import build_parser


def _no_engine(args: argparse.Namespace) -> EngineConfig:
    raise AssertionError("no engine may start here")


def _args(*extra: str) -> argparse.Namespace:
    return build_parser().parse_args(["eval", *extra])


def test_a_missing_prompts_file_exits_2_with_its_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(_args("--prompts", str(tmp_path / "none.jsonl"), "--out", str(tmp_path)), _no_engine)
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("foresight eval: cannot read the prompts file") and "none.jsonl" in err


def test_a_bad_line_exits_2_and_keeps_the_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "Hi"}\n{"prompt": "Hi", "horizons": ["sentense"]}\n')
    out = tmp_path / "out"
    out.mkdir()
    (out / RESULTS).write_text('{"id": "line-1"}\n')
    code = run(_args("--prompts", str(prompts), "--out", str(out)), _no_engine)
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err == f"foresight eval: {prompts}:2: unknown horizon 'sentense' " \
        "(known: sentence, paragraph, turn, user)"  # fmt: skip
    assert (out / RESULTS).read_text() == '{"id": "line-1"}\n'


def test_an_unknown_horizon_on_the_command_line_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(_args("--out", str(tmp_path), "--horizons", "sentence,chapter"), _no_engine)
    assert code == 2
    assert "--horizons: unknown horizon 'chapter'" in capsys.readouterr().err


def test_a_concurrency_below_one_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(_args("--out", str(tmp_path), "--concurrency", "0"), _no_engine)
    assert code == 2
    assert capsys.readouterr().err.strip() == "foresight eval: --concurrency must be at least 1"


def test_a_finished_run_writes_its_report_without_an_engine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_eval_run import SETTINGS, _prompts, _run

    from bench.eval.results import Results

    prompts = _prompts(tmp_path, generated=3, followed=1)
    args = _args(
        "--prompts", str(tmp_path / "prompts.jsonl"), "--out", str(tmp_path / "out"),
        "--rollouts", "6", "--max-tokens", "16", "--lookahead", "10", "--refresh", "2",
        "--clustering", "text",
    )  # fmt: skip
    recorded = {**SETTINGS.to_dict(), "prompts": str(tmp_path / "prompts.jsonl")}
    _run(prompts, Results(tmp_path / "out", recorded))

    assert run(args, _no_engine) == 0
    assert "report.html" in capsys.readouterr().out
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["conversations"]["planned"] == 4
