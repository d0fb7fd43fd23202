"""API keys: 401 in the OpenAI shape without a valid key; public paths stay open; CORS."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import Request
from guarded_app import CHAT, guarded

from server.auth import load_keys, tenant_of

KEYS = ("key-one", "key-two")


async def test_every_route_but_the_public_ones_needs_a_key(tmp_path: Path) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        for path in ("/health", "/ready", "/metrics"):
            assert (await http.get(path)).status_code == 200, path
        for method, path in [
            ("POST", "/v1/chat/completions"),
            ("POST", "/v1/completions"),
            ("GET", "/v1/models"),
            ("GET", "/v1/plans/some-id"),
            ("DELETE", "/v1/plans/some-id"),
            ("GET", "/v1/plans?conversation=c"),
            ("POST", "/v1/plans/analyze"),
            ("GET", "/openapi.json"),
            ("GET", "/no/such/route"),
        ]:
            r = await http.request(method, path, json=CHAT)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error"]["type"] == "authentication_error"
            assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", "Bearer key-one-and-more", "Basic a2V5LW9uZQ==", "key-one", "Bearer "],
)
async def test_a_missing_or_wrong_key_is_refused_and_never_echoed(
    tmp_path: Path, header: str | None
) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        headers = {} if header is None else {"authorization": header}
        r = await http.post("/v1/chat/completions", json=CHAT, headers=headers)
        assert r.status_code == 401
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert "key-one" not in r.text and "wrong" not in r.text
        metrics = (await http.get("/metrics")).text
        assert "key-one" not in metrics and "wrong" not in metrics


async def test_each_configured_key_works_and_names_a_tenant(tmp_path: Path) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (app, http, _engine):

        @app.get("/v1/test-tenant")
        async def tenant(request: Request) -> dict[str, object]:
            return {"tenant": request.state.tenant}

        seen = []
        for key in KEYS:
            auth = {"authorization": f"Bearer {key}"}
            r = await http.post("/v1/chat/completions", json=CHAT, headers=auth)
            assert r.status_code == 200, r.text
            seen.append((await http.get("/v1/test-tenant", headers=auth)).json()["tenant"])
        assert seen == [tenant_of(k) for k in KEYS]
        assert len(set(seen)) == 2 and all(len(t) == 16 for t in seen)


async def test_without_keys_everything_is_open(tmp_path: Path) -> None:
    async with guarded(tmp_path) as (_, http, _engine):
        assert (await http.post("/v1/chat/completions", json=CHAT)).status_code == 200


async def test_cors_is_off_by_default_and_names_origins_when_on(tmp_path: Path) -> None:
    origin = {"origin": "https://app.example", "access-control-request-method": "POST"}
    async with guarded(tmp_path) as (_, http, _engine):
        r = await http.options("/v1/chat/completions", headers=origin)
        assert "access-control-allow-origin" not in r.headers
    async with guarded(tmp_path, api_keys=KEYS, cors_origins=("https://app.example",)) as (
        _,
        http,
        _engine,
    ):
        r = await http.options("/v1/chat/completions", headers=origin)
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        assert r.headers["access-control-allow-credentials"] == "true"
        other = {**origin, "origin": "https://evil.example"}
        r = await http.options("/v1/chat/completions", headers=other)
        assert r.headers.get("access-control-allow-origin") != "*"
        assert "access-control-allow-origin" not in r.headers


def test_keys_come_from_flags_the_environment_and_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = tmp_path / "keys"
    keys.write_text("# team keys\nfile-key-1\n\n  file-key-2  \n")
    monkeypatch.setenv("FORESIGHT_API_KEY", "env-key")
    assert load_keys(["flag-key", "flag-key"], str(keys)) == (
        "flag-key",
        "env-key",
        "file-key-1",
        "file-key-2",
    )
    monkeypatch.delenv("FORESIGHT_API_KEY")
    assert load_keys(None, None) == ()
