"""The plan explorer's page and assets are served by the server itself, and fetch nothing
from anywhere else."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from live_server import LiveServer

ASSETS = re.compile(r"""(?:src|href)="/ui/([\w.-]+)"|from "\./([\w.-]+)\"""")


@pytest.fixture(scope="module")
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, timeout=30) as client:
        yield client


def _referenced(http: httpx.Client) -> dict[str, str]:
    """Every asset the page loads, transitively (the HTML's, and the scripts' imports)."""
    seen: dict[str, str] = {}
    todo = ["index.html"]
    while todo:
        name = todo.pop()
        path = "/ui" if name == "index.html" else f"/ui/{name}"
        response = http.get(path)
        assert response.status_code == 200, (path, response.text)
        seen[name] = response.text
        for match in ASSETS.finditer(response.text):
            asset = match.group(1) or match.group(2)
            if asset not in seen and asset not in todo:
                todo.append(asset)
    return seen


def test_the_page_and_every_asset_it_loads_are_served(http: httpx.Client) -> None:
    page = http.get("/ui")
    assert page.headers["content-type"].startswith("text/html")
    assets = _referenced(http)
    assert {"app.js", "style.css", "api.js", "plan-state.js"} <= set(assets)
    for name in assets:
        if name.endswith(".js"):
            assert http.get(f"/ui/{name}").headers["content-type"].startswith("text/javascript")


def test_nothing_is_fetched_from_another_origin(http: httpx.Client) -> None:
    for name, text in _referenced(http).items():
        # The SVG namespace is a name, not an address: the browser never fetches it.
        text = text.replace('"http://www.w3.org/2000/svg"', "")
        assert not re.search(r"(?:https?:)?//[\w-]+\.[\w.-]+/", text), name


def test_unknown_assets_are_404s_in_the_openai_shape(http: httpx.Client) -> None:
    for path in ["/ui/nope.js", "/ui/..%2Fapi_router.py", "/ui/api_router.py", "/ui/.hidden.js"]:
        response = http.get(path)
        assert response.status_code == 404, path
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_ui_with_a_slash_leads_to_the_page(http: httpx.Client) -> None:
    response = http.get("/ui/", follow_redirects=True)
    assert response.status_code == 200 and "plan explorer" in response.text
