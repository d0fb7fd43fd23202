"""The ``engine`` marker is where ``tests/conftest.py`` says: on every test of the real engine."""

from __future__ import annotations

import sys

import pytest

from planner.engine.config import EngineConfig
from planner.engine.vllm_engine import VLLMEngine


def test_an_unmarked_test_cannot_build_the_real_engine() -> None:
    with pytest.raises(RuntimeError, match="without the `engine` marker"):
        VLLMEngine(EngineConfig(model="unused/model"))


def test_tests_that_use_the_live_server_are_marked(request: pytest.FixtureRequest) -> None:
    items = request.session.items
    live = [i for i in items if "live" in getattr(i, "fixturenames", ())]
    assert all(i.get_closest_marker("engine") for i in live)
    if len(items) > 1:  # a run of more than this file: the marker is not on every test
        assert any(i.get_closest_marker("engine") is None for i in items)


def test_a_run_without_engine_tests_never_imports_vllm(request: pytest.FixtureRequest) -> None:
    """``pytest -m "not engine"`` needs no vLLM: nothing before this test imported it."""
    if any(i.get_closest_marker("engine") for i in request.session.items):
        pytest.skip("this run has engine tests")
    assert "vllm" not in sys.modules
