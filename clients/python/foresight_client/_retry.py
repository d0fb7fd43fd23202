"""When to try a request again, and how long to wait first (shared by both clients)."""

from __future__ import annotations

import email.utils
import random
import time

import httpx

from foresight_client._constants import (
    INITIAL_RETRY_DELAY,
    MAX_RETRY_AFTER,
    MAX_RETRY_DELAY,
    RETRY_STATUSES,
)
from foresight_client._exceptions import APIConnectionError, APIError, ForesightError


def should_retry(error: ForesightError) -> bool:
    """Retry connection errors, timeouts and 408/409/429/5xx; never a mid-stream error."""
    if isinstance(error, APIConnectionError):
        return True
    if isinstance(error, APIError) and error.status_code is not None:
        return error.status_code in RETRY_STATUSES or error.status_code >= 500
    return False


def retry_after(response: httpx.Response | None) -> float | None:
    """Seconds the server asked to wait (``retry-after-ms``, ``Retry-After`` seconds or date)."""
    if response is None:
        return None
    headers = response.headers
    if "retry-after-ms" in headers:
        try:
            return float(headers["retry-after-ms"]) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return email.utils.parsedate_to_datetime(value).timestamp() - time.time()
    except (TypeError, ValueError):
        return None


def retry_delay(attempt: int, error: ForesightError) -> float:
    """Seconds to wait before retry number ``attempt + 1`` (attempt counts from 0)."""
    asked = retry_after(error.response) if isinstance(error, APIError) else None
    if asked is not None and 0 <= asked <= MAX_RETRY_AFTER:
        return asked
    delay = min(INITIAL_RETRY_DELAY * 2.0**attempt, MAX_RETRY_DELAY)
    return delay * (1 - 0.25 * random.random())


def next_delay(attempt: int, max_retries: int, error: ForesightError) -> float | None:
    """The wait before trying again, or None to give up and raise ``error``."""
    if attempt >= max_retries or not should_retry(error):
        return None
    return retry_delay(attempt, error)
