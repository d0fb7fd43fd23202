"""Server configuration: one typed object, validated once."""

from __future__ import annotations

from dataclasses import dataclass

from planner.engine.config import EngineConfig


@dataclass
class ServerConfig:
    """HTTP settings and request caps, plus the engine the server embeds."""

    engine: EngineConfig
    host: str = "127.0.0.1"
    port: int = 8000
    max_n: int = 16
    log_level: str = "info"

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in [0, 65535]")
        if self.max_n < 1:
            raise ValueError("max_n must be >= 1")
