"""The real app on the Markov engine, in-process (``tests/markov_server.py``).

``markov`` is an app of the test's own, with its own SQLite store: for tests that store
plans or read back what they stored. ``shared`` is one app for the whole session: for tests
whose requests leave nothing another test reads (refused requests, plain generation),
which saves building an app per parametrised case.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from markov_server import MarkovServer, markov_server


@pytest.fixture
async def markov(tmp_path: Path) -> AsyncIterator[MarkovServer]:
    async with markov_server(tmp_path / "plans.db") as server:
        yield server


@pytest.fixture(scope="session")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[MarkovServer]:
    async with markov_server(tmp_path_factory.mktemp("shared") / "plans.db") as server:
        yield server
