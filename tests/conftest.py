"""Session-wide fixtures: one real server (and engine) for every test that needs one.

Tests that need the real vLLM engine carry the ``engine`` marker, so ``pytest -m "not
engine"`` runs the rest in minutes without vLLM. A test that uses ``live`` (directly or
through ``client``, ``model`` or any fixture built on them) is marked here at collection;
one that starts an engine another way (a ``foresight serve`` subprocess) is marked by hand,
and an unmarked test that constructs the real engine in-process fails with a message.
"""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from live_server import LiveServer

from planner.engine.vllm_engine import VLLMEngine

ENGINE_FIXTURE = "live"  # the session's real server; every real-engine fixture builds on it


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE_FIXTURE in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.engine)


@pytest.fixture(autouse=True)
def _real_engine_needs_the_mark(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outside ``engine`` tests, building the real engine is a test error, not a slow pass."""
    if request.node.get_closest_marker("engine") is not None:
        return

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError(
            f"{request.node.nodeid} starts the real vLLM engine without the `engine` marker: "
            "use the `live` fixture, or mark it @pytest.mark.engine"
        )

    monkeypatch.setattr(VLLMEngine, "__init__", refuse)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    store = tmp_path_factory.mktemp("store") / "plans.db"
    server = LiveServer(store=f"sqlite:///{store}").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def client(live: LiveServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{live.url}/v1", api_key="unused", max_retries=0) as c:
        yield c


@pytest.fixture(scope="session")
def model(live: LiveServer) -> str:
    return live.engine.model_name
