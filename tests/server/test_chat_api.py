"""/v1/chat/completions through the official openai SDK, on the real engine."""

from __future__ import annotations

import openai
from live_server import LiveServer

MESSAGES = [{"role": "user", "content": "Name three colours."}]


def test_chat_returns_text_usage_and_finish_reason(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=12, seed=1)
    choice = r.choices[0]
    assert r.object == "chat.completion"
    assert choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert r.usage is not None
    assert 0 < r.usage.completion_tokens <= 12
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_usage_counts_match_the_tokenizer(
    client: openai.OpenAI, model: str, live: LiveServer
) -> None:
    r = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=8, seed=2, logprobs=True
    )
    tok = live.engine.tokenizer
    prompt = tok.encode_rendered(tok.render_chat(MESSAGES, add_generation_prompt=True))
    assert r.usage is not None and r.choices[0].logprobs is not None
    assert r.usage.prompt_tokens == len(prompt)
    assert r.usage.completion_tokens == len(r.choices[0].logprobs.content or [])


def test_length_finish_reason_when_max_tokens_is_hit(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Write a long essay about rivers."}],
        max_tokens=3,
        seed=3,
    )
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 3


def test_max_completion_tokens_is_honoured(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Write a long essay about rivers."}],
        max_completion_tokens=4,
        seed=3,
    )
    assert r.usage is not None and r.usage.completion_tokens == 4


def test_same_seed_gives_same_text(client: openai.OpenAI, model: str) -> None:
    texts = {
        client.chat.completions.create(
            model=model, messages=MESSAGES, max_tokens=16, seed=42, temperature=1.0
        )
        .choices[0]
        .message.content
        for _ in range(2)
    }
    assert len(texts) == 1


def test_n_choices_are_indexed_and_seeded_apart(client: openai.OpenAI, model: str) -> None:
    """Choice i samples with seed + i. Repeating a batched request is not asserted: the
    choices share engine batches, and bf16 batch rounding may change a sampled token
    (seeded repeats of a lone request are, in test_same_seed_gives_same_text)."""
    r = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=16, n=3, seed=7)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len({c.message.content for c in r.choices}) > 1
    assert r.usage is not None and r.usage.completion_tokens >= 3


def test_logprobs_and_top_logprobs(client: openai.OpenAI, model: str) -> None:
    r = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=5, seed=4, logprobs=True, top_logprobs=3
    )
    content = r.choices[0].logprobs and r.choices[0].logprobs.content
    assert content
    for entry in content:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 3
        best = entry.top_logprobs[0].logprob
        assert best >= entry.logprob - 1e-6
        assert [t.logprob for t in entry.top_logprobs] == sorted(
            (t.logprob for t in entry.top_logprobs), reverse=True
        )
    text = "".join(e.token for e in content)
    assert text.startswith(r.choices[0].message.content or "")


def test_stop_sequence_cuts_the_text(client: openai.OpenAI, model: str) -> None:
    free = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=24, seed=5)
    text = free.choices[0].message.content or ""
    words = text.split()
    assert len(words) >= 3, text
    stop = words[2]
    cut = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=24, seed=5, stop=[stop]
    )
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == text[: text.index(stop)]


def test_streaming_matches_non_streaming(client: openai.OpenAI, model: str) -> None:
    whole = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=16, seed=9)
    stream = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        max_tokens=16,
        seed=9,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, finish, usage, roles = "", None, None, []
    for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.usage is not None:
            usage = chunk.usage
            assert chunk.choices == []
        for c in chunk.choices:
            roles.append(c.delta.role)
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert roles[0] == "assistant"
    assert text == whole.choices[0].message.content
    assert finish == whole.choices[0].finish_reason
    assert usage is not None and whole.usage is not None
    assert usage.completion_tokens == whole.usage.completion_tokens


def test_streaming_n_interleaves_choices(client: openai.OpenAI, model: str) -> None:
    stream = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=8, n=2, seed=11, stream=True
    )
    texts = {0: "", 1: ""}
    finished = set()
    for chunk in stream:
        for c in chunk.choices:
            texts[c.index] += c.delta.content or ""
            if c.finish_reason:
                finished.add(c.index)
    assert finished == {0, 1}
    whole = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=8, n=2, seed=11
    )
    assert [texts[0], texts[1]] == [c.message.content for c in whole.choices]
