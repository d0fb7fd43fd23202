"""The terminal chat's view and loop, on a scripted server (the real terminal is in
tests/clients/test_terminal_chat.py)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import foresight_client as fc
import httpx
from foresight_client._events import chunk_events
from foresight_client.terminal import TurnView, run_chat
from rich.console import Console
from sdk_helpers import PLAN, Scripted, plan_body, plan_chunk, planned_stream, sse, text_chunk


def _render(view: TurnView, width: int = 160) -> str:
    console = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    console.print(view.render())
    return console.export_text()


def test_the_view_shows_the_reply_beside_the_live_plan() -> None:
    view = TurnView()
    assert "waiting for the first snapshot" in _render(view)
    for chunk in planned_stream():
        for event in chunk_events(chunk):
            view.update(event)
    screen = _render(view)
    assert "assistant" in screen and PLAN["text"].split()[0] in screen
    last = PLAN["snapshots"][-1]
    assert f"plan @ token {last['position']}" in screen
    for horizon, h in last["horizons"].items():
        assert horizon in screen and f"H={h['entropy'] + 0.0:.2f}" in screen
        if h["candidates"]:
            assert f"{h['candidates'][0]['probability']:.2f}" in screen
    assert "fork @" in screen and "bits" in screen
    assert "scored:" in screen
    assert view.plan is not None and view.plan.id == PLAN["id"]


def test_other_choices_are_left_out_of_the_view() -> None:
    view = TurnView()
    view.update(fc.TextDelta(1, "not shown"))
    view.update(fc.TextDelta(0, "shown"))
    assert view.text == "shown"


def _stream_answer(text: str, plan: dict) -> httpx.Response:
    chunks = [text_chunk(text), text_chunk("", finish="stop")]
    chunks.append(plan_chunk({"index": 0, "type": "plan", **plan}))
    return httpx.Response(200, content=b"".join(sse(*chunks)))


def test_a_conversation_is_resent_with_a_plan_and_previous_turns_are_shown() -> None:
    first = plan_body()
    first["previous_turn"] = None
    server = Scripted(
        httpx.Response(200, json={"data": [{"id": "SmolLM2"}]}),
        _stream_answer("Blue.", first),
        _stream_answer("Red.", plan_body()),
    )
    out = io.StringIO()
    console = Console(file=out, width=200, color_system=None)
    stdin = io.StringIO("Name a colour.\n\n   \nAnother one?\n/quit\nnever read\n")
    with server.client() as client:
        code = run_chat(
            client=client, console=console, stdin=stdin, rollouts=2, max_tokens=24, refresh=4
        )
    assert code == 0
    bodies = [json.loads(r.content) for r in server.requests[1:]]
    assert len(bodies) == 2, "blank lines must not be sent; /quit must stop"
    assert bodies[0]["messages"] == [{"role": "user", "content": "Name a colour."}]
    assert bodies[1]["messages"] == [
        {"role": "user", "content": "Name a colour."},
        {"role": "assistant", "content": "Blue."},
        {"role": "user", "content": "Another one?"},
    ]
    plan = {"horizons": ["sentence", "turn", "user"], "rollouts": 2, "refresh": 4}
    assert all(b["plan"] == plan and b["max_tokens"] == 24 and b["stream"] for b in bodies)
    screen = out.getvalue()
    assert "Foresight chat" in screen and "SmolLM2" in screen
    assert screen.count("you>") == 5  # one per line read, blank ones included
    assert screen.count("previous turn:") == 1
    assert (
        f"your message got p={PLAN['previous_turn']['predictions'][-1]['probability']:.2f}"
        in screen
    )


def test_a_failed_turn_is_reported_and_not_kept() -> None:
    bad = {"error": {"message": "engine died", "type": "server_error"}}
    server = Scripted(
        httpx.Response(200, json={"data": [{"id": "m"}]}),
        httpx.Response(200, content=b"".join(sse(text_chunk("half"), bad))),
        _stream_answer("Whole.", plan_body()),
    )
    out = io.StringIO()
    stdin = io.StringIO("first\nsecond\n")  # then end of input
    with server.client() as client:
        assert run_chat(client=client, console=Console(file=out, width=120), stdin=stdin) == 0
    assert "error: engine died" in out.getvalue()
    assert json.loads(server.requests[2].content)["messages"] == [
        {"role": "user", "content": "second"}
    ]


def test_an_unreachable_server_exits_with_1() -> None:
    server = Scripted(httpx.ConnectError("refused"))
    out = io.StringIO()
    with server.client(max_retries=0) as client:
        assert run_chat(client=client, console=Console(file=out), stdin=io.StringIO("")) == 1
    assert "cannot reach Foresight" in out.getvalue()


def test_a_late_earlier_snapshot_does_not_move_the_view_back() -> None:
    snaps = [fc.Snapshot.model_validate(s) for s in plan_body()["snapshots"]]
    view = TurnView()
    view.update(fc.SnapshotEvent(0, "p", snaps[2]))
    view.update(fc.SnapshotEvent(0, "p", snaps[1]))
    assert view.snapshot == snaps[2] and view.snapshots == 2


def test_a_horizon_missing_from_the_latest_snapshot_keeps_its_last_plan() -> None:
    """A snapshot that plans only `sentence` (the plan's refresh_every thins the others)
    leaves the other horizons' earlier plans on screen, marked with their position."""
    first, second = (fc.Snapshot.model_validate(s) for s in plan_body()["snapshots"][:2])
    thinned = second.model_copy(update={"horizons": {"sentence": second.horizons["sentence"]}})
    view = TurnView()
    view.update(fc.SnapshotEvent(0, "p", first))
    view.update(fc.SnapshotEvent(0, "p", thinned))
    assert view.horizons["sentence"] == (second.position, second.horizons["sentence"])
    others = set(first.horizons) - {"sentence"}
    assert others and all(view.horizons[h] == (first.position, first.horizons[h]) for h in others)
    out = io.StringIO()
    Console(file=out, width=140).print(view.render())
    assert all(f"{h} @{first.position}" in out.getvalue() for h in others)


def test_an_empty_ending_and_a_pending_score_say_what_they_mean() -> None:
    """An empty candidate is the reply ending right there (for `user`, an empty message);
    a horizon whose ending has not come yet says its score is not known."""
    snap = fc.Snapshot.model_validate(plan_body()["snapshots"][0])
    horizons = {
        name: h.model_copy(update={"candidates": [fc.Candidate(text="", probability=1.0, count=2)]})
        for name, h in snap.horizons.items()
    }
    view = TurnView()
    view.update(fc.SnapshotEvent(0, "p", snap.model_copy(update={"horizons": horizons})))
    screen = " ".join(_render(view, width=220).split())
    assert "⏎ the reply ends here" in screen
    assert ("(an empty message)" in screen) == ("user" in horizons)
    assert screen.count("score not yet known") >= len(horizons)  # once per horizon + legend

    name = next(iter(horizons))
    score = fc.Score.model_validate(
        {**plan_body()["scores"][0], "position": snap.position, "horizon": name, "top1": True}
    )
    view.update(fc.ScoreEvent(0, "p", score))
    assert f"scored ✓ log {score.log_score:.2f}" in " ".join(_render(view, width=220).split())


def test_the_chat_runs_as_a_module_and_as_its_own_command() -> None:
    import foresight_client.terminal as terminal

    r = subprocess.run(
        [sys.executable, "-m", "foresight_client.terminal", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "--rollouts" in r.stdout and "--api-key" in r.stdout
    pyproject = Path(terminal.__file__).parents[2] / "pyproject.toml"
    scripts = pyproject.read_text().split("[project.scripts]", 1)[1].split("[", 1)[0]
    assert re.findall(r'^([\w-]+) = "(.+)"$', scripts, re.M) == [
        ("foresight-chat", "foresight_client.terminal._cli:main")
    ]
    assert terminal.main is terminal._cli.main


def test_the_command_reports_an_unreachable_server() -> None:
    from foresight_client.terminal import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["--base-url", "http://127.0.0.1:9"])
    assert code == 1 and "cannot reach Foresight" in out.getvalue()
