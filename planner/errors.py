"""The one exception hierarchy of Foresight's core.

    ForesightError
    ├── InvalidRequestError        a request value is wrong (HTTP 400); ``param`` names it
    │   └── ContextLengthError     prompt or prompt + max_tokens exceeds the context
    ├── NotFoundError              a named thing does not exist (HTTP 404)
    ├── EngineUnavailableError     the engine is starting, stopping or dead (HTTP 503)
    │   └── RolloutsFailedError    the engine kept failing a plan's rollouts
    └── StoreError                 the plan store failed (the text is still delivered)

The server maps each class to the OpenAI error shape in one place
(``server/errors.py``); messages never carry paths or stack traces.
"""

from __future__ import annotations


class ForesightError(Exception):
    """Base of every error Foresight raises on purpose."""

    status_code = 500
    error_type = "server_error"

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code


class InvalidRequestError(ForesightError):
    """A request value is out of range, of the wrong type, or inconsistent."""

    status_code = 400
    error_type = "invalid_request_error"


class ContextLengthError(InvalidRequestError):
    """The prompt, or prompt plus requested completion, does not fit the context."""

    def __init__(self, message: str, *, param: str | None = None):
        super().__init__(message, param=param, code="context_length_exceeded")


class NotFoundError(ForesightError):
    """A model, plan or route that the request names does not exist."""

    status_code = 404
    error_type = "not_found_error"


class EngineUnavailableError(ForesightError):
    """The engine cannot take work now (starting, shutting down, or failed)."""

    status_code = 503
    error_type = "service_unavailable"


class RolloutsFailedError(EngineUnavailableError):
    """The engine failed K fresh rollouts of one refresh: that plan cannot be made."""


class StoreError(ForesightError):
    """The plan store could not read or write a plan."""

    status_code = 503
    error_type = "store_error"
