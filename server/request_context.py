"""Per-request facts every endpoint needs: ids, timestamps, the model check."""

from __future__ import annotations

import time
import uuid

from planner.engine.protocol import Engine
from planner.errors import InvalidRequestError


def new_id(prefix: str) -> str:
    """An OpenAI-style object id, e.g. ``chatcmpl-3f2a...``."""
    return f"{prefix}-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def check_model(engine: Engine, requested: str | None) -> str:
    """The served model name; a request naming another model is refused."""
    if requested is not None and requested != engine.model_name:
        raise InvalidRequestError(
            f"The model `{requested}` does not exist. This server serves `{engine.model_name}`.",
            param="model",
            code="model_not_found",
        )
    return engine.model_name


def check_n(n: int, max_n: int) -> None:
    if n > max_n:
        raise InvalidRequestError(f"n must be at most {max_n} on this server.", param="n")
