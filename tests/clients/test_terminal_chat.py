"""The SDK's terminal chat (`python -m foresight_client.terminal`, also `foresight-chat` and
`foresight chat`) in a real terminal (tmux) against the real server: two turns, then /quit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from live_server import LiveServer

WAIT = 240.0  # seconds for one planned reply on a slow, shared CPU
PROBABILITY = re.compile(r"\s[01]\.\d\d\s")


class Tmux:
    """One tmux server of our own (its own socket), so no one else's sessions are touched."""

    def __init__(self) -> None:
        self.socket = f"foresight-test-{uuid.uuid4().hex[:8]}"

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # An explicit environment: under pytest, readline may have put COLUMNS=80 into the
        # process's C-level environment (not os.environ), and the pane would inherit it.
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check, env=env
        )

    def type(self, line: str) -> None:
        self.run("send-keys", "-t", "chat", "-l", line)
        self.run("send-keys", "-t", "chat", "Enter")

    def screen(self) -> str:
        out = self.run("capture-pane", "-p", "-t", "chat", "-S", "-").stdout
        return "\n".join(line.rstrip() for line in out.splitlines())

    def alive(self) -> bool:
        return self.run("has-session", "-t", "chat", check=False).returncode == 0

    def wait_for(self, what: str, done: Callable[[str], bool], timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            if not self.alive():
                pytest.fail(f"foresight chat exited while waiting for {what}:\n{screen}")
            screen = self.screen()
            if done(screen):
                return screen
            time.sleep(0.5)
        pytest.fail(f"timed out waiting for {what}; the screen:\n{screen}")


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is not installed (apt-get install -y tmux)")
    session = Tmux()
    try:
        yield session
    finally:
        session.run("kill-server", check=False)


def test_terminal_chat_streams_replies_beside_the_live_plan(live: LiveServer, tmux: Tmux) -> None:
    command = (
        f"{sys.executable} -m foresight_client.terminal --base-url {live.url}"
        " --max-tokens 24 --rollouts 2"
    )
    tmux.run("new-session", "-d", "-s", "chat", "-x", "200", "-y", "50", command)
    tmux.wait_for("the prompt", lambda s: "you>" in s, timeout=60)
    assert "Foresight chat" in tmux.screen()

    tmux.type("Describe a cat in one sentence.")
    screen = tmux.wait_for("the live plan panel", lambda s: "plan @ token" in s)
    screen = tmux.wait_for("the end of the first reply", lambda s: s.count("you>") >= 2)
    first = screen[screen.index("Describe a cat") :]
    assert "assistant" in first and "plan @ token" in first
    assert "sentence" in first and "user" in first and "H=" in first
    assert "the reply ends here:" in first  # the legend: what an empty ending means
    assert PROBABILITY.search(first), f"no candidate probability on screen:\n{first}"
    assert re.search(r"plan plan-\w+: \d+ snapshots", first)
    assert "previous turn:" not in first

    tmux.type("Thanks! Now describe a dog.")
    screen = tmux.wait_for("the previous turn's score", lambda s: "previous turn:" in s)
    second = " ".join(screen[screen.index("Now describe a dog") :].split())
    assert re.search(r"previous turn: .*model log p -?\d+\.\d over \d+ tokens", second), screen

    tmux.wait_for("the third prompt", lambda s: s.count("you>") >= 3)
    tmux.type("/quit")
    deadline = time.monotonic() + 30
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not tmux.alive(), "foresight chat did not exit on /quit"
