"""The real vLLM engine behind the HTTP layer, through the official openai SDK.

The HTTP contract is tested on the Markov engine (the other files here); these tests prove
that the real engine's path works end to end: its tokenizer and chat template, seeds,
logprobs, streaming detokenisation, prefix cache and metrics. They use the session's
``live`` server, so they carry the ``engine`` marker (added in ``tests/conftest.py``).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import openai
import pytest
from live_server import LiveServer
from plan_shape import check_plan_shape, plan_of

MESSAGES = [{"role": "user", "content": "Name three colours."}]
PROMPT = "The three primary colours are"


def test_ready_flipped_from_503_to_200(live: LiveServer) -> None:
    assert live.ready_statuses[0] == 503
    assert live.ready_statuses[-1] == 200
    assert httpx.get(f"{live.url}/ready").status_code == 200
    assert httpx.get(f"{live.url}/health").json() == {"status": "ok"}


def test_ready_means_the_default_clustering_model_is_loaded(live: LiveServer) -> None:
    """/ready waits for it, so that the first planned requests do not (they used to wait
    ~10 s for it to load)."""
    assert live.app.state.planner.has_clusterer("embedding")


def test_models_lists_the_served_model(client: openai.OpenAI, live: LiveServer) -> None:
    assert [m.id for m in client.models.list().data] == [live.engine.model_name]


def test_chat_text_usage_and_logprobs(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    r = client.chat.completions.create(
        model=model, messages=MESSAGES, max_tokens=8, seed=2, logprobs=True, top_logprobs=3
    )
    choice = r.choices[0]
    assert r.object == "chat.completion" and choice.message.role == "assistant"
    assert choice.message.content and choice.finish_reason in ("stop", "length")
    tok = live.engine.tokenizer
    prompt = tok.encode_rendered(tok.render_chat(MESSAGES, add_generation_prompt=True))
    content = choice.logprobs and choice.logprobs.content
    assert r.usage is not None and content
    assert r.usage.prompt_tokens == len(prompt)
    assert r.usage.completion_tokens == len(content) <= 8
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    for entry in content:
        assert entry.logprob <= 0 and len(entry.top_logprobs) == 3
        assert entry.top_logprobs[0].logprob >= entry.logprob - 1e-6
        tops = [t.logprob for t in entry.top_logprobs]
        assert tops == sorted(tops, reverse=True)
    assert "".join(e.token for e in content).startswith(choice.message.content)


def test_n_choices_are_seeded_apart(client: openai.OpenAI, model: str) -> None:
    """Choice i samples with seed + i (exact on the synthetic engine, test_chat_api.py).
    A batched request is not asserted to repeat token for token on the real engine: its
    choices share batches, and bf16 batch rounding may change a sampled token (seen on a
    fresh clone: one choice of three differed in its last words)."""
    r = client.chat.completions.create(model=model, messages=MESSAGES, max_tokens=16, n=3, seed=7)
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len({c.message.content for c in r.choices}) > 1
    assert r.usage is not None and r.usage.completion_tokens >= 3


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
    text, finish, usage = "", None, None
    for chunk in stream:
        usage = chunk.usage or usage
        for c in chunk.choices:
            text += c.delta.content or ""
            finish = c.finish_reason or finish
    assert text == whole.choices[0].message.content
    assert finish == whole.choices[0].finish_reason
    assert usage is not None and whole.usage is not None
    assert usage.completion_tokens == whole.usage.completion_tokens


def test_completions_by_text_ids_and_batch(
    client: openai.OpenAI, model: str, live: LiveServer
) -> None:
    ids = live.engine.tokenizer.encode(PROMPT)
    by_text = client.completions.create(model=model, prompt=PROMPT, max_tokens=5, seed=3)
    by_ids = client.completions.create(model=model, prompt=ids, max_tokens=5, seed=3)
    assert by_text.choices[0].text and by_ids.choices[0].text == by_text.choices[0].text
    assert by_text.usage is not None and by_text.usage.prompt_tokens == len(ids)
    assert by_text.usage.completion_tokens == 5 and by_text.choices[0].finish_reason == "length"
    batch = client.completions.create(
        model=model, prompt=[PROMPT, "Water boils at"], max_tokens=4, n=2, seed=3
    )
    assert [c.index for c in batch.choices] == [0, 1, 2, 3] and all(c.text for c in batch.choices)
    other = live.engine.tokenizer.encode("Water boils at")
    assert batch.usage is not None and batch.usage.prompt_tokens == len(ids) + len(other)


def test_stop_string_on_real_text(client: openai.OpenAI, model: str) -> None:
    r = client.completions.create(
        model=model, prompt="Count: 1, 2, 3,", max_tokens=20, seed=6, stop=[","], temperature=0
    )
    assert "," not in r.choices[0].text
    assert r.choices[0].finish_reason == "stop"


def test_prompt_longer_than_context(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    long_text = "word " * (live.engine.max_model_len + 50)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": long_text}]
        )
    assert info.value.param == "messages"
    assert info.value.code == "context_length_exceeded"


def test_planned_chat_returns_a_plan_per_choice(client: openai.OpenAI, model: str) -> None:
    short = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]
    plan_cfg = {"horizons": ["sentence", "turn"], "rollouts": 3, "max_lookahead_tokens": 32}
    r = client.chat.completions.create(
        model=model, messages=short, max_tokens=40, seed=1, n=2, extra_body={"plan": plan_cfg}
    )
    plans = [plan_of(c) for c in r.choices]
    for plan, choice in zip(plans, r.choices, strict=True):
        check_plan_shape(plan, ["sentence", "turn"])
        assert plan["text"] == choice.message.content
    assert plans[0]["id"] != plans[1]["id"]
    assert [s for s in plans[0]["scores"] if s["horizon"] == "sentence"], "nothing scored"


def test_streamed_plan_keeps_the_stream_contract(client: openai.OpenAI, model: str) -> None:
    """What the README promises: plan chunks beside unchanged text chunks, the whole plan
    last. (Whether snapshots overtake the text is a matter of speed, not of contract.)"""
    plan_cfg = {"horizons": ["sentence", "turn"], "rollouts": 3, "refresh": 4}
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Describe a cat in two short sentences."}],
        max_tokens=48,
        seed=2,
        stream=True,
        extra_body={"plan": {**plan_cfg, "max_lookahead_tokens": 24, "rollouts_in_flight": 3}},
    )
    kinds: list[str] = []
    text = ""
    final: dict[str, Any] | None = None
    for chunk in stream:
        plan = (chunk.model_extra or {}).get("plan")
        if plan is not None:
            assert chunk.choices == [] and plan["index"] == 0
            kinds.append(plan["type"])
            final = plan if plan["type"] == "plan" else final
        text += "".join(c.delta.content or "" for c in chunk.choices)
    assert final is not None and kinds[-1] == "plan" and kinds.count("plan") == 1
    assert "snapshot" in kinds
    assert final["text"] == text
    assert len(final["snapshots"]) == kinds.count("snapshot")


def _metric(text: str, name: str, **labels: str) -> float:
    lines = [ln for ln in text.splitlines() if re.match(rf"{re.escape(name)}[{{ ]", ln)]
    return sum(
        float(ln.rsplit(" ", 1)[1])
        for ln in lines
        if all(f'{k}="{v}"' in ln for k, v in labels.items())
    )


def test_metrics_of_the_real_engine(client: openai.OpenAI, model: str, live: LiveServer) -> None:
    """vLLM's own metrics are served beside ours, and rollouts hit its prefix cache."""
    names = [
        "foresight_rollout_prompt_tokens_total",
        "foresight_rollout_cached_prompt_tokens_total",
    ]
    before = httpx.get(f"{live.url}/metrics").text
    r = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        max_tokens=24,
        seed=5,
        extra_body={"plan": {"horizons": ["sentence"], "rollouts": 2, "max_lookahead_tokens": 16}},
    )
    stats = plan_of(r.choices[0])["stats"]
    after = httpx.get(f"{live.url}/metrics").text
    assert re.search(r"^vllm:", after, re.M)
    grown = [_metric(after, n) - _metric(before, n) for n in names]
    assert grown == [stats["rollout_prompt_tokens"], stats["rollout_cached_prompt_tokens"]]
    assert 0 < stats["rollout_cached_prompt_tokens"] < stats["rollout_prompt_tokens"]
