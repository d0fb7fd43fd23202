"""Session-wide fixtures: one real server (and engine) for every test that needs one."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from live_server import LiveServer


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
