"""Engine interface and the vLLM adapter."""

from planner.engine.config import EngineConfig
from planner.engine.protocol import Delta, Engine, Sampling, Tokenizer, TokenLogprob

__all__ = ["Delta", "Engine", "EngineConfig", "Sampling", "TokenLogprob", "Tokenizer"]
