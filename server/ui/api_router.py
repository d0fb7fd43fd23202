"""HTTP routes of the plan explorer: the page and its few static assets, nothing else.

The assets ship as package data (``server/ui/static``); the page talks to the same
server's public API from the browser, so it needs no routes of its own beyond these.
"""

from __future__ import annotations

import importlib.resources

from fastapi import APIRouter, HTTPException
from fastapi.responses import RedirectResponse, Response

router = APIRouter(include_in_schema=False)

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# The page must always match the server it came from: no caching across upgrades.
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}


def _asset(name: str) -> Response:
    suffix = name[name.rfind(".") :] if "." in name else ""
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in _TYPES:
        raise HTTPException(404, f"no such asset: {name}")
    resource = importlib.resources.files("server.ui") / "static" / name
    if not resource.is_file():
        raise HTTPException(404, f"no such asset: {name}")
    return Response(resource.read_bytes(), media_type=_TYPES[suffix], headers=_HEADERS)


@router.get("/ui")
async def page() -> Response:
    """The plan explorer."""
    return _asset("index.html")


@router.get("/ui/")
async def page_slash() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=308)


@router.get("/ui/{name}")
async def asset(name: str) -> Response:
    """One of the page's scripts or style sheets."""
    return _asset(name)
