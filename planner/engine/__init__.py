"""Engine interface and the vLLM adapter."""

from planner.engine.config import EngineConfig
from planner.engine.protocol import Delta, Engine, Sampling, TokenLogprob, Tokenizer

__all__ = ["Delta", "Engine", "EngineConfig", "Sampling", "TokenLogprob", "Tokenizer"]
