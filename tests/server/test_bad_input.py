"""Hostile bodies: each gets a clear 4xx in the OpenAI error shape, never a 5xx or a hang."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from guarded_app import guarded

ROUTE = "/v1/chat/completions"
JSON = {"content-type": "application/json"}
HI = '{"messages": [{"role": "user", "content": %s}], "max_tokens": 4}'


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"messages": [', JSON, 400),  # truncated JSON
        (
            b'{"messages": [{"role": "user", "content": " The"}]}',
            {"content-type": "text/plain"},
            400,
        ),
        (b"messages=1", {"content-type": "application/x-www-form-urlencoded"}, 400),
        (b"\x00\x01\x02", {"content-type": "application/octet-stream"}, 400),
        (b"[" * 100_000 + b"]" * 100_000, JSON, 400),  # deep nesting
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, JSON, 400),
        ((HI % '"\\ud800"').encode(), JSON, 400),  # a lone surrogate
        ((HI % '"x"').encode().replace(b"x", b"\xff\xfe"), JSON, 400),  # invalid UTF-8
        ((HI % '"\\u0000 The\\u0007"').encode(), JSON, 400),  # NUL and BEL: untokenizable here
        (b'{"messages": [{"role": "user", "content": " The"}], "max_tokens": 1e308}', JSON, 400),
        (
            b'{"messages": [{"role": "user", "content": " The"}], "n": 99999999999999999999}',
            JSON,
            400,
        ),
        (b'{"messages": [{"role": "user", "content": " The"}], "temperature": NaN}', JSON, 400),
        (b'{"messages": [{"role": "user", "content": " The"}], "seed": -1e400}', JSON, 400),
        (
            b'{"messages": [{"role": "user", "content": " The"}], "plan": {"rollouts": 1e9}}',
            JSON,
            400,
        ),
        (b"{" + b'"k": 1,' * 200_000 + b'"z": 2}', JSON, 413),  # huge
    ],
    ids=[
        "truncated",
        "text-plain",
        "form",
        "octet-stream",
        "deep-list",
        "deep-object",
        "lone-surrogate",
        "invalid-utf8",
        "nul-and-control",
        "huge-float",
        "huge-int",
        "nan",
        "negative-inf",
        "absurd-rollouts",
        "huge-body",
    ],
)
async def test_hostile_bodies_get_a_clear_4xx(
    tmp_path: Path, body: bytes, headers: dict[str, str], status: int
) -> None:
    async with guarded(tmp_path, max_body_bytes=1_000_000) as (_, http, _engine):
        r = await http.post(ROUTE, content=body, headers=headers)
        assert r.status_code == status, r.text[:300]
        error = r.json()["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"]
        assert "Traceback" not in r.text and ".py" not in error["message"]


@pytest.mark.parametrize("seed", [-1, -(2**63), 2**63 - 1])
async def test_any_64_bit_seed_streams_and_repeats(tmp_path: Path, seed: int) -> None:
    """vLLM takes negative and extreme seeds (torch reads them mod 2**64); so does the
    server, streamed, with ``n`` > 1 (choice i uses seed + i), and the text repeats."""
    body = {"messages": [{"role": "user", "content": " The"}], "max_tokens": 6, "n": 2}
    body |= {"seed": seed, "stream": True, "temperature": 1.0}
    async with guarded(tmp_path) as (_, http, _engine):
        texts = []
        for _ in range(2):
            r = await http.post(ROUTE, json=body)
            assert r.status_code == 200, r.text[:300]
            assert '"error"' not in r.text and r.text.rstrip().endswith("data: [DONE]")
            texts.append(re.findall(r'"index":\s*\d+,\s*"delta":\s*\{[^}]*\}', r.text))
        assert texts[0] == texts[1] and texts[0]
