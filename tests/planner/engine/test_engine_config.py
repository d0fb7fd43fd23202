"""--model: a Hugging Face id goes to vLLM unchanged; only a path that exists is a directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.engine.config import EngineConfig, is_hub_id
from planner.engine.model_cache import default_model_dir
from planner.engine.vllm_engine import _engine_args
from server import cli, engine_args

HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"


@pytest.mark.parametrize(
    ("model", "hub"),
    [
        (HUB_ID, True),
        ("Qwen/Qwen2.5-0.5B-Instruct", True),
        ("meta-llama/Llama-3.1-8B", True),
        ("/no/such/model", False),
        ("./models/x", False),
        ("~/models/x", False),
        ("a/b/c", False),
        ("plain-name", False),
    ],
)
def test_hub_ids_are_told_from_paths(model: str, hub: bool) -> None:
    assert is_hub_id(model) is hub


def test_a_path_that_exists_is_a_directory_even_if_shaped_like_an_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "org" / "name").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert not is_hub_id("org/name")
    assert EngineConfig(model="org/name").name == "name"
    (tmp_path / "org" / "file").write_text("")
    with pytest.raises(ValueError, match="model directory not found"):
        EngineConfig(model="org/file")


@pytest.mark.engine  # imports vLLM to build its AsyncEngineArgs (a `not engine` run has no vLLM)
def test_a_hub_id_reaches_vllm_unchanged_and_names_the_model() -> None:
    config = EngineConfig(model=HUB_ID, kv_cache_memory_bytes=2**28)
    assert config.name == HUB_ID  # vLLM's own default served name for an id
    args = _engine_args(config)  # builds vLLM's AsyncEngineArgs; downloads nothing
    assert args.model == HUB_ID
    assert args.served_model_name == [HUB_ID]
    assert args.kv_cache_memory_bytes == 2**28


def test_serve_prepares_the_default_model_only_without_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared: list[bool] = []

    def prepare(**_: object) -> Path:
        prepared.append(True)
        return default_model_dir()

    monkeypatch.setattr(engine_args, "prepare_default_model", prepare)
    parser = cli.build_parser()
    config = engine_args.engine_config(parser.parse_args(["serve", "--model", HUB_ID]))
    assert config.model == HUB_ID and not prepared
    config = engine_args.engine_config(parser.parse_args(["serve"]))
    assert config.model == str(default_model_dir()) and prepared == [True]
