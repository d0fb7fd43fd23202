"""Server configuration: one typed object, validated once."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner import DEFAULT_TTL_SECONDS, PlanLimits
from planner.engine.config import EngineConfig

PUBLIC_PATHS = ("/health", "/ready", "/metrics")


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
    # -- security (server/auth.py) --
    api_keys: tuple[str, ...] = ()  # empty: no auth (local use)
    public_paths: tuple[str, ...] = PUBLIC_PATHS  # answered without a key
    cors_origins: tuple[str, ...] = ()  # empty: no CORS headers at all
    # -- request caps (server/limits.py) --
    max_body_bytes: int = 4 * 1024 * 1024
    max_messages: int = 512
    max_message_chars: int = 200_000
    max_prompt_chars: int = 400_000  # /v1/completions prompt, all strings together
    max_tokens: int | None = None  # None: what the context leaves
    max_stop_chars: int = 256
    # -- load (server/backpressure.py), deadlines and shutdown --
    max_running_cost: int = 256  # cost units admitted at once (a plain request is 1)
    max_queued: int = 64  # requests waiting for room; beyond this, 429 at once
    request_timeout: float | None = 600.0  # seconds; None: no server-side deadline
    shutdown_grace: float = 30.0  # seconds in-flight requests get after SIGTERM

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in [0, 65535]")
        if self.max_n < 1:
            raise ValueError("max_n must be >= 1")
        if self.plan_ttl_seconds is not None and self.plan_ttl_seconds <= 0:
            raise ValueError("plan_ttl_seconds must be > 0")
        if self.store is not None and not self.store.startswith(("sqlite://", "redis://")):
            raise ValueError("store must be sqlite://... or redis://host:port/db")
        if any(not k or k != k.strip() for k in self.api_keys):
            raise ValueError("an API key must be non-empty and without surrounding spaces")
        if "*" in self.cors_origins:
            raise ValueError("cors origin '*' is not allowed: name the origins")
        positive = {
            "max_body_bytes": self.max_body_bytes,
            "max_messages": self.max_messages,
            "max_message_chars": self.max_message_chars,
            "max_prompt_chars": self.max_prompt_chars,
            "max_stop_chars": self.max_stop_chars,
            "max_running_cost": self.max_running_cost,
        }
        for name, value in positive.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError("max_tokens must be >= 1")
        if self.max_queued < 0:
            raise ValueError("max_queued must be >= 0")
        if self.request_timeout is not None and self.request_timeout <= 0:
            raise ValueError("request_timeout must be > 0")
        if self.shutdown_grace < 0:
            raise ValueError("shutdown_grace must be >= 0")
