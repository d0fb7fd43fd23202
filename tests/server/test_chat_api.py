"""/v1/chat/completions through the official openai SDK, on the in-process Markov engine.

The chain's distribution is known, so outputs are asserted exactly: greedy decoding from
``<assistant>`` reads " The cat sat." again and again, and a seeded request gives what the
engine gives for that seed (choice i of ``n`` uses seed + i).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from markov_engine import TRANSITIONS, VOCAB
from markov_server import MarkovServer, chat_ids, sample

MESSAGES = [{"role": "user", "content": " Yes."}]
GREEDY = " The cat sat. The cat sat. The cat sat."


async def test_chat_returns_text_usage_and_finish_reason(shared: MarkovServer) -> None:
    r = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=12, seed=1
    )
    expected = await sample(chat_ids(MESSAGES), max_tokens=12, seed=1)
    choice = r.choices[0]
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-")
    assert r.model == shared.model
    assert choice.index == 0 and choice.message.role == "assistant"
    assert choice.message.content == expected.text
    assert choice.finish_reason == expected.finish_reason
    assert r.usage is not None
    assert r.usage.completion_tokens == len(expected.token_ids)
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert "plan" not in (choice.model_extra or {})


async def test_usage_counts_match_the_tokenizer(shared: MarkovServer) -> None:
    r = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=8, seed=2, logprobs=True
    )
    assert r.usage is not None and r.choices[0].logprobs is not None
    assert r.usage.prompt_tokens == len(chat_ids(MESSAGES)) == 5
    assert r.usage.completion_tokens == len(r.choices[0].logprobs.content or [])


async def test_content_parts_and_system_messages_render_like_text(shared: MarkovServer) -> None:
    text = [{"type": "text", "text": " Yes"}, {"type": "text", "text": "."}]
    parts = [{"role": "system", "content": " No."}, {"role": "user", "content": text}]
    r = await shared.http.post("/v1/chat/completions", json={"messages": parts, "max_tokens": 2})
    assert r.status_code == 200, r.text
    plain = [{"role": "system", "content": " No."}, *MESSAGES]
    assert r.json()["usage"]["prompt_tokens"] == len(chat_ids(plain))


async def test_length_finish_reason_when_max_tokens_is_hit(shared: MarkovServer) -> None:
    r = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=3, temperature=0
    )
    assert r.choices[0].message.content == " The cat sat"
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 3


async def test_max_completion_tokens_is_honoured(shared: MarkovServer) -> None:
    r = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_completion_tokens=4, temperature=0
    )
    assert r.choices[0].message.content == " The cat sat."
    assert r.usage is not None and r.usage.completion_tokens == 4


async def test_end_of_turn_is_a_stop_and_its_token_is_not_text(shared: MarkovServer) -> None:
    r = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=300, seed=3
    )
    expected = await sample(chat_ids(MESSAGES), max_tokens=300, seed=3)
    assert expected.finish_reason == "stop" and expected.token_ids[-1] == 0  # <eos>
    assert r.choices[0].finish_reason == "stop"
    assert r.choices[0].message.content == expected.text
    assert "<eos>" not in (r.choices[0].message.content or "")
    assert r.usage is not None and r.usage.completion_tokens == len(expected.token_ids)


@pytest.mark.parametrize(
    "params",
    [{"temperature": 0}, {"extra_body": {"top_k": 1}}, {"top_p": 0.01}],
    ids=["temperature-0", "top_k-1", "top_p-small"],
)
async def test_sampling_parameters_reach_the_engine(
    shared: MarkovServer, params: dict[str, object]
) -> None:
    """Each of these leaves one token possible per step: the greedy text, whatever the seed."""
    for seed in (1, 2):
        r = await shared.sdk.chat.completions.create(
            model=shared.model, messages=MESSAGES, max_tokens=12, seed=seed, **params
        )
        assert r.choices[0].message.content == GREEDY


async def test_same_seed_gives_same_text(shared: MarkovServer) -> None:
    texts = [
        (
            await shared.sdk.chat.completions.create(
                model=shared.model, messages=MESSAGES, max_tokens=16, seed=42
            )
        )
        .choices[0]
        .message.content
        for _ in range(2)
    ]
    assert texts[0] == texts[1] == (await sample(chat_ids(MESSAGES), max_tokens=16, seed=42)).text


async def test_n_choices_are_indexed_and_seeded_apart(shared: MarkovServer) -> None:
    r = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=16, n=3, seed=7
    )
    expected = [await sample(chat_ids(MESSAGES), max_tokens=16, seed=7 + i) for i in range(3)]
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert [c.message.content for c in r.choices] == [e.text for e in expected]
    assert len({c.message.content for c in r.choices}) > 1
    assert r.usage is not None
    assert r.usage.prompt_tokens == len(chat_ids(MESSAGES))  # the prompt counts once
    assert r.usage.completion_tokens == sum(len(e.token_ids) for e in expected)


async def test_logprobs_are_the_chains(shared: MarkovServer) -> None:
    r = await shared.sdk.chat.completions.create(
        model=shared.model,
        messages=MESSAGES,
        max_tokens=6,
        seed=4,
        logprobs=True,
        top_logprobs=3,
    )
    content = r.choices[0].logprobs and r.choices[0].logprobs.content
    assert content and len(content) == 6
    prev = chat_ids(MESSAGES)[-1]
    for entry in content:
        token = VOCAB.index(entry.token)
        assert math.isclose(entry.logprob, math.log(TRANSITIONS[prev, token]))
        row = TRANSITIONS[prev]
        best = [VOCAB[t] for t in np.argsort(-row, kind="stable")[:3] if row[t] > 0]
        assert [t.token for t in entry.top_logprobs] == best  # only tokens that can follow
        for alt in entry.top_logprobs:
            assert math.isclose(alt.logprob, math.log(row[VOCAB.index(alt.token)]))
        assert entry.bytes == list(entry.token.encode())
        prev = token
    assert "".join(e.token for e in content) == r.choices[0].message.content


async def test_stop_sequences_cut_the_text(shared: MarkovServer) -> None:
    # the first match in the text wins, also one that spans tokens
    cases = [([" sat"], " The cat"), (["cat sat"], " The "), (["!", ". The"], " The cat sat")]
    for stop, text in cases:
        r = await shared.sdk.chat.completions.create(
            model=shared.model, messages=MESSAGES, max_tokens=24, temperature=0, stop=stop
        )
        assert r.choices[0].finish_reason == "stop", stop
        assert r.choices[0].message.content == text, stop


async def test_streamed_chunks_in_order_and_sse_framing(shared: MarkovServer) -> None:
    """The exact frames of a greedy stream: role, one chunk per token, finish, usage, [DONE]."""
    body = {
        "messages": MESSAGES,
        "max_tokens": 4,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    r = await shared.http.post("/v1/chat/completions", json=body)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    frames = r.text.split("\n\n")
    assert frames[-2:] == ["data: [DONE]", ""]
    assert all(f.startswith("data: ") for f in frames[:-1])
    chunks = [json.loads(f.removeprefix("data: ")) for f in frames[:-2]]
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert len({c["id"] for c in chunks}) == 1
    deltas = [(c["choices"][0]["delta"], c["choices"][0]["finish_reason"]) for c in chunks[:-1]]
    assert deltas == [
        ({"role": "assistant", "content": ""}, None),
        ({"role": None, "content": " The"}, None),
        ({"role": None, "content": " cat"}, None),
        ({"role": None, "content": " sat"}, None),
        ({"role": None, "content": "."}, None),
        ({"role": None, "content": None}, "length"),
    ]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}


async def test_streaming_matches_non_streaming(shared: MarkovServer) -> None:
    for stop in (None, [" and"]):
        whole = await shared.sdk.chat.completions.create(
            model=shared.model, messages=MESSAGES, max_tokens=16, seed=9, stop=stop
        )
        stream = await shared.sdk.chat.completions.create(
            model=shared.model,
            messages=MESSAGES,
            max_tokens=16,
            seed=9,
            stop=stop,
            stream=True,
            stream_options={"include_usage": True},
        )
        text, finish, usage, roles = "", None, None, []
        async for chunk in stream:
            assert chunk.object == "chat.completion.chunk"
            if chunk.usage is not None:
                usage = chunk.usage
                assert chunk.choices == []
            for c in chunk.choices:
                roles.append(c.delta.role)
                text += c.delta.content or ""
                finish = c.finish_reason or finish
        assert roles[0] == "assistant" and set(roles[1:]) == {None}
        assert text == whole.choices[0].message.content
        assert finish == whole.choices[0].finish_reason
        assert usage is not None and whole.usage is not None
        assert usage.completion_tokens == whole.usage.completion_tokens


async def test_streaming_n_interleaves_choices(shared: MarkovServer) -> None:
    stream = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=8, n=2, seed=11, stream=True
    )
    texts = {0: "", 1: ""}
    finished = set()
    async for chunk in stream:
        for c in chunk.choices:
            texts[c.index] += c.delta.content or ""
            if c.finish_reason:
                finished.add(c.index)
    assert finished == {0, 1}
    whole = await shared.sdk.chat.completions.create(
        model=shared.model, messages=MESSAGES, max_tokens=8, n=2, seed=11
    )
    assert [texts[0], texts[1]] == [c.message.content for c in whole.choices]
