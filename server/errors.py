"""Every error the server returns, in the OpenAI shape ``{"error": {message, type, param, code}}``.

Handlers are registered once on the app; route code raises ``planner.errors``
exceptions (or lets FastAPI's validation fail) and never builds error bodies.
No message carries a stack trace or a file path.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from planner.errors import ForesightError
from server.protocol import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)

_HTTP_TYPES = {
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def error_response(
    status: int, message: str, type_: str, param: str | None = None, code: str | None = None
) -> JSONResponse:
    """A JSON error response in the OpenAI shape."""
    body = ErrorResponse(error=ErrorDetail(message=message, type=type_, param=param, code=code))
    return JSONResponse(body.model_dump(), status_code=status)


def error_payload(exc: BaseException) -> dict[str, Any]:
    """The OpenAI error object for an exception, for use inside an SSE stream."""
    if isinstance(exc, ForesightError):
        detail = ErrorDetail(
            message=exc.message, type=exc.error_type, param=exc.param, code=exc.code
        )
    else:
        detail = ErrorDetail(message="internal server error", type="server_error")
    return {"error": detail.model_dump()}


def _param(loc: Sequence[Any]) -> str | None:
    parts = [p for p in loc if p != "body"]
    # Union members show up as loc entries like "str" or "list[int]"; they are not fields.
    parts = [p for p in parts if not (isinstance(p, str) and ("[" in p or p in _TYPE_NAMES))]
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or None


_TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict", "function-after", "TextPart"}


def _server_caps(request: Request) -> dict[str, int]:
    """Fields whose largest value is a server setting: a value over it gets that cap."""
    config = getattr(request.app.state, "config", None)
    if config is None:
        return {}
    limits = config.plan_limits
    caps = {
        "n": config.max_n,
        "plan.rollouts": limits.max_rollouts,
        "plan.max_lookahead_tokens": limits.max_lookahead_tokens,
    }
    if config.max_tokens is not None:
        caps["max_tokens"] = caps["max_completion_tokens"] = config.max_tokens
    return caps


def _validation_message(err: dict[str, Any], param: str | None, caps: dict[str, int]) -> str:
    kind = err.get("type", "")
    if kind == "json_invalid":
        return "We could not parse the JSON body of your request: it is not valid JSON."
    if param is None and kind in ("model_attributes_type", "dict_type", "missing"):
        return "The request body must be a JSON object."
    if kind == "missing":
        return f"Missing required parameter: '{param}'."
    if kind in ("less_than_equal", "less_than") and param in caps:
        return f"{param} must be at most {caps[param]} on this server."
    return f"Invalid value for '{param}': {err.get('msg', 'invalid value')}."


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    # Prefer the most specific error; pydantic reports one per union member.
    err = min(errors, key=lambda e: (e.get("type") == "missing", -len(e.get("loc", ()))))
    # A JSON syntax error's loc ends with a character offset, not a field.
    param = None if err.get("type") == "json_invalid" else _param(err.get("loc", ()))
    message = _validation_message(err, param, _server_caps(request))
    return error_response(400, message, "invalid_request_error", param)


async def _on_foresight(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ForesightError)
    if exc.status_code >= 500:
        log.warning("request failed: %s", exc.message)
    return error_response(exc.status_code, exc.message, exc.error_type, exc.param, exc.code)


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail) if exc.detail else "error"
    if exc.status_code == 404 and message == "Not Found":
        message = "Unknown route."
    elif exc.status_code == 405:
        message = "Method not allowed for this route."
    kind = _HTTP_TYPES.get(
        exc.status_code, "server_error" if exc.status_code >= 500 else "invalid_request_error"
    )
    response = error_response(exc.status_code, message, kind)
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "Internal server error.", "server_error")


def install_error_handlers(app: FastAPI) -> None:
    """Map every exception the routes can raise to the OpenAI error shape."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ForesightError, _on_foresight)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(json.JSONDecodeError, _on_validation_json)
    app.add_exception_handler(Exception, _on_unexpected)


async def _on_validation_json(_: Request, exc: Exception) -> JSONResponse:
    return error_response(
        400,
        "We could not parse the JSON body of your request: it is not valid JSON.",
        "invalid_request_error",
    )
