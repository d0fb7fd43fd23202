"""Start-up output: probe paths stay out of the access log; `serve --help` shows defaults."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import httpx
import pytest
import uvicorn
from live_server import free_port
from markov_engine import MarkovEngine

from planner.engine.config import EngineConfig
from server.app import create_app
from server.cli import build_parser
from server.config import ServerConfig
from server.uvicorn_server import ForesightServer, QuietProbes, ready_url


def _access(path: str, status: int) -> logging.LogRecord:
    # The shape of uvicorn's access-log records.
    args = ("127.0.0.1:5000", "GET", path, "1.1", status)
    return logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None
    )


@pytest.mark.parametrize(
    ("path", "status", "kept"),
    [
        ("/ready", 200, False),
        ("/ready", 503, False),  # the expected answer while the engine starts
        ("/health", 200, False),
        ("/metrics", 200, False),
        ("/metrics?x=1", 200, False),
        ("/metrics", 500, True),  # a failing scrape is news
        ("/v1/chat/completions", 200, True),
        ("/v1/models", 503, True),
    ],
)
def test_probe_lines_are_dropped(path: str, status: int, kept: bool) -> None:
    assert QuietProbes().filter(_access(path, status)) is kept


def test_other_records_pass() -> None:
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "plain", None, None)
    assert QuietProbes().filter(record)


def test_ready_url_names_the_bound_port() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        assert ready_url("127.0.0.1", [s]) == f"http://127.0.0.1:{port}"
    assert ready_url("::1", []) == "http://[::1]:0"


def test_serve_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for shown in (
        "(default: 127.0.0.1)",
        "(default: 8000)",
        "largest plan.rollouts (default: 16)",
        "(default: 4096)",
        "(default: priority)",
    ):
        assert shown in text
    assert "(default: None)" not in text


def test_the_ready_line_comes_once_ready_answers_200(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The server layer on the synthetic engine: what is tested is the start-up sequence.
    gate = threading.Event()

    def build() -> MarkovEngine:
        gate.wait(30)
        return MarkovEngine()

    config = ServerConfig(
        engine=EngineConfig(model=str(tmp_path)),
        port=free_port(),
        store=f"sqlite:///{tmp_path}/p.db",
    )
    app = create_app(config, engine_factory=build)
    server = ForesightServer(
        uvicorn.Config(app, host="127.0.0.1", port=config.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{config.port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert httpx.get(f"{url}/ready").status_code == 503
        assert "Foresight ready" not in capsys.readouterr().out
        gate.set()
        lines: list[str] = []
        while time.monotonic() < deadline + 60 and not lines:
            lines = [x for x in capsys.readouterr().out.splitlines() if "Foresight ready" in x]
            time.sleep(0.1)
        assert lines == [f"Foresight ready on {url} (model {config.engine.name})"]
        assert httpx.get(f"{url}/ready").status_code == 200
    finally:
        gate.set()
        server.should_exit = True
        thread.join(30)
