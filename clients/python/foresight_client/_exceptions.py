"""One exception hierarchy for everything the SDK raises on purpose.

    ForesightError                    base of all of them
    ├── APIError                      the server answered with an error: message, type, param,
    │   │                             code, status_code (None mid-stream), body, response
    │   ├── BadRequestError           400 (or an invalid_request_error event mid-stream)
    │   ├── AuthenticationError       401
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── ConflictError             409
    │   ├── RateLimitError            429
    │   ├── InternalServerError       5xx (or a server_error event mid-stream)
    │   │   └── OverloadedError       503, 529: the server cannot take work now
    │   └── APIResponseValidationError  a success answer that is not the expected JSON
    └── APIConnectionError            no answer at all: refused, reset, DNS
        └── APITimeoutError           no answer in time

Errors arrive in the OpenAI shape ``{"error": {message, type, param, code}}``; ``param``
names the request field at fault (``plan.rollouts``, ``messages``, ...). A stream's HTTP
status is 200 before an error can happen inside it, so a mid-stream error event picks its
class by ``type`` and has ``status_code`` None.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ForesightError",
    "InternalServerError",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "RateLimitError",
]


class ForesightError(Exception):
    """Base of every exception this SDK raises on purpose."""


class APIError(ForesightError):
    """The server answered, with an error in the OpenAI shape."""

    def __init__(
        self,
        message: str,
        *,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
        status_code: int | None = None,
        body: Any = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: The OpenAI error type, e.g. ``invalid_request_error``.
        self.type = type
        #: The request field at fault, e.g. ``plan.rollouts`` (None if not one field).
        self.param = param
        #: A machine-readable code, e.g. ``plan_not_found`` or ``context_length_exceeded``.
        self.code = code
        #: The HTTP status; None for an error event in the middle of a stream.
        self.status_code = status_code
        #: The decoded error body (or the raw text when it was not JSON).
        self.body = body
        self.response = response

    def __str__(self) -> str:
        where = f" (param: {self.param})" if self.param else ""
        status = f"{self.status_code} " if self.status_code is not None else ""
        return f"{status}{self.message}{where}"


class BadRequestError(APIError):
    """400: a request value is wrong; ``param`` names it."""


class AuthenticationError(APIError):
    """401: the API key is missing or wrong (for a proxy in front of the server)."""


class PermissionDeniedError(APIError):
    """403: the key may not do this."""


class NotFoundError(APIError):
    """404: no such plan (``code == "plan_not_found"``) or route."""


class ConflictError(APIError):
    """409: the request conflicts with the state of a resource."""


class RateLimitError(APIError):
    """429: too many requests; retried after ``Retry-After``."""


class InternalServerError(APIError):
    """5xx, or a ``server_error`` event in the middle of a stream."""


class OverloadedError(InternalServerError):
    """503 or 529: the engine is starting or stopping, or the plan store is down."""


class APIResponseValidationError(APIError):
    """A success answer whose body is not the JSON this SDK expects."""


class APIConnectionError(ForesightError):
    """No answer: the connection was refused, reset, or the name did not resolve."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None):
        super().__init__(message)
        self.message = message
        self.request = request


class APITimeoutError(APIConnectionError):
    """No answer within the timeout."""

    def __init__(self, request: httpx.Request | None = None) -> None:
        super().__init__("Request timed out.", request=request)


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: BadRequestError,
    429: RateLimitError,
    503: OverloadedError,
    529: OverloadedError,
}

# Mid-stream errors carry no status, only the OpenAI `type` (see server/errors.py).
_BY_TYPE: dict[str, type[APIError]] = {
    "invalid_request_error": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "rate_limit_error": RateLimitError,
    "service_unavailable": OverloadedError,
    "overloaded_error": OverloadedError,
    "store_error": OverloadedError,
    "server_error": InternalServerError,
}


def _fields(body: Any) -> tuple[str | None, dict[str, Any]]:
    """The error object of an OpenAI-shaped body, and its message if any."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return None, {}
    message = error.get("message")
    return (str(message) if message is not None else None), error


def status_error(response: httpx.Response) -> APIError:
    """The exception for an error response (its body must have been read)."""
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    message, error = _fields(body)
    status = response.status_code
    cls = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else APIError)
    if message is None:
        message = (body if isinstance(body, str) and body else None) or response.reason_phrase
    return cls(
        message or f"HTTP {status}",
        type=error.get("type"),
        param=error.get("param"),
        code=error.get("code"),
        status_code=status,
        body=body,
        response=response,
    )


def stream_error(body: dict[str, Any], response: httpx.Response | None) -> APIError:
    """The exception for an ``{"error": {...}}`` event inside a stream."""
    message, error = _fields(body)
    cls = _BY_TYPE.get(str(error.get("type")), APIError)
    return cls(
        message or "error in stream",
        type=error.get("type"),
        param=error.get("param"),
        code=error.get("code"),
        body=body,
        response=response,
    )


def transport_error(exc: httpx.TransportError, request: httpx.Request | None) -> APIConnectionError:
    """The exception for a connection that failed or timed out."""
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request)
    return APIConnectionError(f"Connection error: {exc}", request=request)
