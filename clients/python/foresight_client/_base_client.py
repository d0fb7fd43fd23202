"""What Client and AsyncClient share: configuration, request building, answer parsing."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import ValidationError

from foresight_client._calls import Call
from foresight_client._constants import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
)
from foresight_client._exceptions import APIResponseValidationError
from foresight_client._version import __version__

T = TypeVar("T")
log = logging.getLogger("foresight_client")


def resolve_base_url(base_url: str | None) -> str:
    """The argument, else ``$FORESIGHT_BASE_URL``, else the default; without ``/v1``."""
    url = (base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL).rstrip("/")
    # Routes carry their own /v1; an OpenAI-style base URL ending in /v1 is accepted too.
    return url.removesuffix("/v1")


class BaseClient:
    """Configuration common to both clients."""

    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str | None,
        timeout: float | httpx.Timeout | None,
        max_retries: int | None,
        default_headers: Mapping[str, str] | None,
    ) -> None:
        self.base_url = resolve_base_url(base_url)
        """Server root, e.g. ``http://127.0.0.1:8000``."""
        self.api_key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        """Sent as ``Authorization: Bearer``; None sends no header."""
        self.model = model
        """Default ``model`` of requests (None: the server's own model)."""
        self.timeout = timeout if timeout is not None else DEFAULT_TIMEOUT
        """Per-request timeout (seconds or an ``httpx.Timeout``)."""
        self.max_retries = DEFAULT_MAX_RETRIES if max_retries is None else max_retries
        """Retries after a failed attempt (0 disables retrying)."""
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._default_headers = dict(default_headers or {})

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"foresight-client/{__version__}", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        headers.update(self._default_headers)
        return headers

    def _model(self, model: str | None) -> str | None:
        return model if model is not None else self.model

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, model={self.model!r})"


def build_request(http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    """The HTTP request for a call."""
    return http.build_request(
        call.method, call.path, json=call.json, params=call.params, headers=call.headers or None
    )


def parse_response(response: httpx.Response, call: Call[T]) -> T:
    """The typed answer of a successful response, or APIResponseValidationError."""
    try:
        return call.parse(response.json())
    except (ValueError, ValidationError, KeyError, TypeError) as exc:
        raise APIResponseValidationError(
            f"unexpected answer from {call.method} {call.path}: {exc}",
            status_code=response.status_code,
            body=response.text,
            response=response,
        ) from exc


def log_retry(request: httpx.Request, error: Exception, delay: float) -> None:
    log.info("%s %s failed (%s); retrying in %.2fs", request.method, request.url, error, delay)
