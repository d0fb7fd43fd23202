"""/v1/completions through the official openai SDK, on the in-process Markov engine."""

from __future__ import annotations

import json
import math

import openai
import pytest
from markov_engine import TRANSITIONS, VOCAB, MarkovTokenizer
from markov_server import MarkovServer, sample

PROMPT = " Yes."
IDS = MarkovTokenizer().encode(PROMPT)


async def test_completion_text_and_usage(shared: MarkovServer) -> None:
    r = await shared.sdk.completions.create(model=shared.model, prompt=PROMPT, max_tokens=6, seed=1)
    expected = await sample(IDS, max_tokens=6, seed=1)
    assert r.object == "text_completion" and r.id.startswith("cmpl-")
    assert r.choices[0].text == expected.text
    assert r.choices[0].finish_reason == expected.finish_reason
    assert r.usage is not None
    assert r.usage.prompt_tokens == len(IDS) == 2
    assert r.usage.completion_tokens == len(expected.token_ids)


async def test_default_max_tokens_is_16(shared: MarkovServer) -> None:
    r = await shared.sdk.completions.create(model=shared.model, prompt=PROMPT, temperature=0)
    assert r.usage is not None and r.usage.completion_tokens == 16
    assert r.choices[0].finish_reason == "length"


async def test_token_prompts_and_batches(shared: MarkovServer) -> None:
    by_text = await shared.sdk.completions.create(
        model=shared.model, prompt=PROMPT, max_tokens=5, seed=3
    )
    by_ids = await shared.sdk.completions.create(
        model=shared.model, prompt=IDS, max_tokens=5, seed=3
    )
    assert by_ids.choices[0].text == by_text.choices[0].text
    other = MarkovTokenizer().encode(" No")
    batch = await shared.sdk.completions.create(
        model=shared.model, prompt=[PROMPT, " No"], max_tokens=4, n=2, seed=3
    )
    assert [c.index for c in batch.choices] == [0, 1, 2, 3]
    # Choice p * n + i continues prompt p with seed + i.
    expected = [await sample(p, max_tokens=4, seed=3 + i) for p in (IDS, other) for i in range(2)]
    assert [c.text for c in batch.choices] == [e.text for e in expected]
    assert batch.usage is not None
    # Each prompt counts once, however many choices continue it.
    assert batch.usage.prompt_tokens == len(IDS) + len(other)
    assert batch.usage.completion_tokens == sum(len(e.token_ids) for e in expected)
    ids_batch = await shared.sdk.completions.create(
        model=shared.model, prompt=[IDS, other], max_tokens=4, n=2, seed=3
    )
    assert [c.text for c in ids_batch.choices] == [c.text for c in batch.choices]


async def test_logprobs_offsets_and_top(shared: MarkovServer) -> None:
    r = await shared.sdk.completions.create(
        model=shared.model, prompt=PROMPT, max_tokens=5, seed=4, logprobs=2
    )
    lp = r.choices[0].logprobs
    assert lp is not None and lp.tokens and lp.text_offset and lp.top_logprobs
    assert lp.token_logprobs is not None
    assert "".join(lp.tokens) == r.choices[0].text
    assert lp.text_offset[0] == 0
    for token, offset in zip(lp.tokens, lp.text_offset, strict=True):
        assert r.choices[0].text[offset : offset + len(token)] == token
    prev = IDS[-1]
    for token, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs, strict=True):
        t = VOCAB.index(token)
        assert logprob is not None and math.isclose(logprob, math.log(TRANSITIONS[prev, t]))
        possible = int((TRANSITIONS[prev] > 0).sum())
        assert top is not None and len(top) == min(2, possible)
        assert max(top.values()) == pytest.approx(math.log(TRANSITIONS[prev].max()))
        prev = t


async def test_streamed_chunks_in_order(shared: MarkovServer) -> None:
    """Greedy from " Yes.": one chunk per token, the finish on the last, then usage, [DONE]."""
    body = {
        "prompt": PROMPT,
        "max_tokens": 3,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    r = await shared.http.post("/v1/completions", json=body)
    assert r.headers["content-type"].startswith("text/event-stream")
    frames = r.text.split("\n\n")
    assert frames[-2:] == ["data: [DONE]", ""]
    chunks = [json.loads(f.removeprefix("data: ")) for f in frames[:-2]]
    assert {c["object"] for c in chunks} == {"text_completion"}
    assert [(c["choices"][0]["text"], c["choices"][0]["finish_reason"]) for c in chunks[:-1]] == [
        (" The", None),
        (" cat", None),
        (" sat", "length"),
    ]
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}


async def test_stream_matches_whole(shared: MarkovServer) -> None:
    whole = await shared.sdk.completions.create(
        model=shared.model, prompt=PROMPT, max_tokens=8, seed=5
    )
    text, usage = "", None
    async for chunk in await shared.sdk.completions.create(
        model=shared.model,
        prompt=PROMPT,
        max_tokens=8,
        seed=5,
        stream=True,
        stream_options={"include_usage": True},
    ):
        assert chunk.object == "text_completion"
        text += "".join(c.text for c in chunk.choices)
        usage = chunk.usage or usage
    assert text == whole.choices[0].text
    assert usage is not None and whole.usage is not None
    assert usage.completion_tokens == whole.usage.completion_tokens


async def test_stop_string(shared: MarkovServer) -> None:
    r = await shared.sdk.completions.create(
        model=shared.model, prompt=PROMPT, max_tokens=20, stop=["."], temperature=0
    )
    assert r.choices[0].text == " The cat sat"
    assert r.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(("field", "value"), [("echo", True), ("suffix", " end")])
async def test_unsupported_fields_are_400s(shared: MarkovServer, field: str, value: object) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        await shared.sdk.completions.create(
            model=shared.model, prompt=PROMPT, max_tokens=2, **{field: value}
        )
    assert info.value.param == field
