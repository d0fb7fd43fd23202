"""The vLLM adapter on the real engine: streaming, seeds, aborts, logprobs, chat facts."""

from __future__ import annotations

import asyncio

from live_server import LiveServer

from planner.engine.protocol import Delta, Sampling

MESSAGES = [{"role": "user", "content": "Say something about the moon."}]


def _prompt(live: LiveServer) -> list[int]:
    tok = live.engine.tokenizer
    return tok.encode_rendered(tok.render_chat(MESSAGES, add_generation_prompt=True))


async def _collect(live: LiveServer, request_id: str, sampling: Sampling) -> list[Delta]:
    return [d async for d in live.engine.generate(request_id, _prompt(live), sampling)]


def test_streams_deltas_and_finishes(live: LiveServer) -> None:
    deltas = live.run(_collect(live, "t-stream", Sampling(max_tokens=6, seed=1)))
    assert sum(len(d.token_ids) for d in deltas) <= 6
    assert deltas[-1].finish_reason in ("stop", "length")
    assert all(d.finish_reason is None for d in deltas[:-1])


def test_seed_reproduces_tokens(live: LiveServer) -> None:
    a = live.run(_collect(live, "t-seed-a", Sampling(max_tokens=12, seed=7)))
    b = live.run(_collect(live, "t-seed-b", Sampling(max_tokens=12, seed=7)))
    assert [t for d in a for t in d.token_ids] == [t for d in b for t in d.token_ids]


def test_abort_stops_a_running_request(live: LiveServer) -> None:
    async def go() -> Delta:
        engine = live.engine
        stream = engine.generate(
            "t-abort", _prompt(live), Sampling(max_tokens=500, ignore_eos=True)
        )
        first = await stream.__anext__()
        await engine.abort("t-abort")
        last = first
        async for delta in stream:
            last = delta
        return last

    last = live.run(go())
    assert last.finish_reason == "abort"


def test_closing_the_stream_aborts(live: LiveServer) -> None:
    async def go() -> int:
        stream = live.engine.generate(
            "t-close", _prompt(live), Sampling(max_tokens=500, ignore_eos=True)
        )
        await stream.__anext__()
        await stream.aclose()  # type: ignore[attr-defined]
        await asyncio.sleep(0.2)
        return int(live.engine.vllm.get_num_unfinished_requests())  # type: ignore[attr-defined]

    assert live.run(go()) == 0


def test_prompt_logprobs_match_generation_logprobs(live: LiveServer) -> None:
    deltas = live.run(
        _collect(live, "t-lp", Sampling(max_tokens=6, seed=3, temperature=0.0, logprobs=2))
    )
    tokens = [t for d in deltas for t in d.token_ids]
    generated = [lp.logprob for d in deltas for lp in d.logprobs or []]
    prompt = _prompt(live)
    scored = live.run(live.engine.prompt_logprobs([*prompt, *tokens], len(prompt), top_n=2))
    assert [s.token_id for s in scored] == tokens
    assert all(len(s.top) == 2 for s in scored)
    for a, b in zip(generated, (s.logprob for s in scored), strict=True):
        assert abs(a - b) < 0.25  # bf16 numerics differ between decode and prefill batches


def test_chat_facts(live: LiveServer) -> None:
    tok = live.engine.tokenizer
    assert tok.eos_token_ids
    header = tok.user_header_ids()
    assert header and not set(header) & tok.eos_token_ids
    rendered = tok.render_chat(
        [*MESSAGES, {"role": "assistant", "content": "X"}, {"role": "user", "content": "Y"}],
        add_generation_prompt=False,
    )
    ids = tok.encode_rendered(rendered)
    x = tok.encode("X")
    start = ids.index(x[0])
    after = ids[start + len(x) + 1 : start + len(x) + 1 + len(header)]
    assert after == header
