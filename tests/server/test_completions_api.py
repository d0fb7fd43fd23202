"""/v1/completions through the official openai SDK, on the real engine."""

from __future__ import annotations

import openai
from live_server import LiveServer

PROMPT = "The three primary colours are"


def test_completion_text_and_usage(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    r = client.completions.create(model=model, prompt=PROMPT, max_tokens=6, seed=1)
    assert r.object == "text_completion"
    assert r.choices[0].text
    assert r.usage is not None
    assert r.usage.prompt_tokens == len(live.engine.tokenizer.encode(PROMPT))
    assert r.usage.completion_tokens == 6
    assert r.choices[0].finish_reason == "length"


def test_default_max_tokens_is_16(client: openai.OpenAI, model: str) -> None:
    r = client.completions.create(
        model=model, prompt="List every country in the world:", seed=2, temperature=1.0
    )
    assert r.usage is not None and r.usage.completion_tokens <= 16


def test_token_prompts_and_batches(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    ids = live.engine.tokenizer.encode(PROMPT)
    by_text = client.completions.create(model=model, prompt=PROMPT, max_tokens=5, seed=3)
    by_ids = client.completions.create(model=model, prompt=ids, max_tokens=5, seed=3)
    assert by_ids.choices[0].text == by_text.choices[0].text
    batch = client.completions.create(
        model=model, prompt=[PROMPT, "Water boils at"], max_tokens=4, n=2, seed=3
    )
    assert [c.index for c in batch.choices] == [0, 1, 2, 3]
    assert all(c.text for c in batch.choices)
    assert batch.usage is not None
    # Each prompt counts once, however many choices continue it.
    assert batch.usage.prompt_tokens == len(ids) + len(
        live.engine.tokenizer.encode("Water boils at")
    )


def test_logprobs_offsets_and_top(client: openai.OpenAI, model: str) -> None:
    r = client.completions.create(model=model, prompt=PROMPT, max_tokens=5, seed=4, logprobs=2)
    lp = r.choices[0].logprobs
    assert lp is not None and lp.tokens and lp.text_offset and lp.top_logprobs
    assert "".join(lp.tokens) == r.choices[0].text
    assert lp.text_offset[0] == 0
    for token, offset in zip(lp.tokens, lp.text_offset, strict=True):
        assert r.choices[0].text[offset : offset + len(token)] == token
    assert all(top is not None and len(top) == 2 for top in lp.top_logprobs)


def test_stream_matches_whole(client: openai.OpenAI, model: str) -> None:
    whole = client.completions.create(model=model, prompt=PROMPT, max_tokens=8, seed=5)
    text, usage = "", None
    for chunk in client.completions.create(
        model=model,
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
    assert usage is not None and usage.completion_tokens == 8


def test_stop_string(client: openai.OpenAI, model: str) -> None:
    r = client.completions.create(
        model=model, prompt="Count: 1, 2, 3,", max_tokens=20, seed=6, stop=[","], temperature=0
    )
    assert "," not in r.choices[0].text
    assert r.choices[0].finish_reason == "stop"
