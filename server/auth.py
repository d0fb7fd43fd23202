"""API keys: every route needs one (``Authorization: Bearer KEY``) except the public paths.

Keys are compared in constant time against every configured key (no early exit that
would tell which key came close). A key never reaches a log, an error or a metric: the
request carries only ``tenant``, a stable non-secret identity of its key (the first 16
hex digits of its SHA-256), on ``request.state.tenant`` — ``None`` when the server runs
without keys.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from starlette.types import ASGIApp, Receive, Scope, Send

from server.protocol import ErrorDetail, ErrorResponse

KEY_ENV = "FORESIGHT_API_KEY"
UI_PREFIX = "/ui"  # the plan explorer (server/ui), served without a key


def tenant_of(key: str) -> str:
    """The identity a key's plans are stored under: not the key, and not reversible."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def load_keys(given: Sequence[str] | None, key_file: str | None) -> tuple[str, ...]:
    """Keys from ``--api-key`` (repeatable), ``$FORESIGHT_API_KEY`` and ``--api-key-file``.

    The file has one key per line; blank lines and ``#`` comments are skipped.
    """
    keys = list(given or [])
    if env := os.environ.get(KEY_ENV, "").strip():
        keys.append(env)
    if key_file:
        for line in Path(key_file).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                keys.append(line)
    return tuple(dict.fromkeys(k.strip() for k in keys))


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if scheme.lower() == "bearer" else None
    return None


def _matches(token: str, keys: Iterable[bytes]) -> bool:
    given = token.encode()
    found = False
    for key in keys:  # every key, always: the time does not depend on which matched
        found |= hmac.compare_digest(given, key)
    return found


def _unauthorized(message: str) -> bytes:
    detail = ErrorDetail(message=message, type="authentication_error", code="invalid_api_key")
    return json.dumps(ErrorResponse(error=detail).model_dump()).encode()


def _static(path: str) -> bool:
    """The plan explorer's page and assets hold no data and a browser cannot send a key
    when it loads them: they are public; every API call the page makes needs the key."""
    return path == UI_PREFIX or path.startswith(UI_PREFIX + "/")


class AuthMiddleware:
    """Refuse (401, OpenAI shape) any request outside the public paths without a valid key."""

    def __init__(self, app: ASGIApp, keys: Sequence[str], public_paths: Collection[str]) -> None:
        self.app = app
        self.keys = [k.encode() for k in keys]
        self.public = frozenset(public_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["tenant"] = None
        path = scope["path"]
        if not self.keys or path in self.public or _static(path) or scope["method"] == "OPTIONS":
            # OPTIONS: CORS preflights carry no credentials by design.
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        if token is None:
            body = _unauthorized(
                "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'."
            )
        elif not _matches(token, self.keys):
            body = _unauthorized("Incorrect API key provided.")
        else:
            state["tenant"] = tenant_of(token)
            await self.app(scope, receive, send)
            return
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b"Bearer"),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
