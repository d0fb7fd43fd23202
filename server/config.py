"""Server configuration: one typed object, validated once."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner import DEFAULT_TTL_SECONDS, PlanLimits
from planner.engine.config import EngineConfig


@dataclass
class ServerConfig:
    """HTTP settings and request caps, plus the engine the server embeds."""

    engine: EngineConfig
    host: str = "127.0.0.1"
    port: int = 8000
    max_n: int = 16
    log_level: str = "info"
    store: str | None = None  # None: SQLite in the data directory; or sqlite:///path, redis://
    plan_ttl_seconds: float | None = DEFAULT_TTL_SECONDS
    plan_limits: PlanLimits = field(default_factory=PlanLimits)

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in [0, 65535]")
        if self.max_n < 1:
            raise ValueError("max_n must be >= 1")
        if self.plan_ttl_seconds is not None and self.plan_ttl_seconds <= 0:
            raise ValueError("plan_ttl_seconds must be > 0")
        if self.store is not None and not self.store.startswith(("sqlite://", "redis://")):
            raise ValueError("store must be sqlite://... or redis://host:port/db")
