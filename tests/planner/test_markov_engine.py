"""The synthetic Markov engine samples exactly the distributions it claims to.

Every sampled check uses a fixed list of seeds, so the chi-square tests are
deterministic: they cannot flake, and they pass because the sampler is right.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from markov_engine import (
    ASSISTANT,
    EOS,
    ID,
    SENTENCE_END,
    TRANSITIONS,
    USER,
    VOCAB,
    MarkovEngine,
)
from scipy.stats import chisquare

from planner.engine.protocol import Delta, Sampling
from planner.errors import InvalidRequestError

N_SAMPLES = 4000
_ids = itertools.count()


@pytest.fixture
def engine() -> MarkovEngine:
    return MarkovEngine()


async def run(engine: MarkovEngine, prompt: Sequence[int], sampling: Sampling) -> list[Delta]:
    """All deltas of one request."""
    return [d async for d in engine.generate(f"r{next(_ids)}", prompt, sampling)]


async def run_one(engine: MarkovEngine, request_id: str) -> None:
    """Run a one-token request under a chosen id."""
    async for _ in engine.generate(request_id, [ASSISTANT], Sampling(max_tokens=1)):
        pass


async def run_many(
    engine: MarkovEngine, prompt: Sequence[int], sampling: Sampling, seeds: Iterable[int]
) -> list[list[int]]:
    """Output token ids of one concurrent request per seed."""
    runs = [run(engine, prompt, sampling.with_(seed=s)) for s in seeds]
    return [[t for d in deltas for t in d.token_ids] for deltas in await asyncio.gather(*runs)]


def chi_square_p(observed: Counter[Any], expected: Mapping[Any, float], n: int) -> float:
    """p-value over outcomes expected >= 20 times, the rest pooled into one bin."""
    big = [k for k, p in expected.items() if p * n >= 20]
    obs = [observed[k] for k in big] + [n - sum(observed[k] for k in big)]
    exp = [expected[k] * n for k in big]
    exp.append(n - sum(exp))
    if exp[-1] < 1e-9:  # nothing left for the pooled bin
        obs, exp = obs[:-1], exp[:-1]
    assert len(obs) >= 2
    return float(chisquare(obs, exp).pvalue)


def test_tokenizer_round_trip_and_chat_template(engine: MarkovEngine) -> None:
    tok = engine.tokenizer
    ids = tok.encode(" The cat sat. No!\n\n")
    assert [VOCAB[i] for i in ids] == [" The", " cat", " sat", ".", " No", "!", "\n\n"]
    assert tok.decode([*ids, EOS]) == " The cat sat. No!\n\n"
    with pytest.raises(ValueError):
        tok.encode(" The bird")
    chat = [{"role": "user", "content": " Yes."}, {"role": "assistant", "content": " No!"}]
    text = tok.render_chat([*chat, {"role": "user", "content": " Yes."}], True)
    assert text == "<user> Yes.<eos><assistant> No!<eos><user> Yes.<eos><assistant>"
    rendered = tok.encode_rendered(text)
    # What follows the assistant's end-of-turn token before the user's text.
    after_eos = rendered.index(EOS, rendered.index(ASSISTANT)) + 1
    assert rendered[after_eos : after_eos + 1] == tok.user_header_ids() == [USER]
    assert tok.eos_token_ids == frozenset({EOS}) and tok.vocab_size == len(VOCAB)
    assert engine.model_name == "markov-test" and engine.max_model_len == 4096


async def test_same_seed_same_tokens_under_concurrency(engine: MarkovEngine) -> None:
    sampling = Sampling(max_tokens=40, seed=1234, ignore_eos=True)
    alone = await run(engine, [ASSISTANT], sampling)
    seeds = [*range(10), *[None] * 10]
    others = [
        run(engine, [ID["."]], Sampling(max_tokens=30, seed=s, temperature=0.5 + i % 3 / 2))
        for i, s in enumerate(seeds)
    ]
    crowded, *_ = await asyncio.gather(run(engine, [ASSISTANT], sampling), *others)
    assert [d.token_ids for d in crowded] == [d.token_ids for d in alone]
    assert len(alone) == 40 and all(len(d.token_ids) == 1 for d in alone)
    assert not engine.active and engine.requests_started == 22


@pytest.mark.parametrize(
    ("prev", "temperature", "top_p", "top_k"),
    [(".", 1.0, 1.0, 0), (".", 0.7, 1.0, 3), ("!", 1.6, 0.9, 0), (" ran", 1.0, 1.0, 0)],
)
async def test_next_token_frequencies_match(
    engine: MarkovEngine, prev: str, temperature: float, top_p: float, top_k: int
) -> None:
    sampling = Sampling(max_tokens=1, temperature=temperature, top_p=top_p, top_k=top_k)
    outs = await run_many(engine, [ID[prev]], sampling, range(N_SAMPLES))
    counts = Counter(out[0] for out in outs)
    dist = engine.next_token_distribution(ID[prev], temperature, top_p, top_k)
    assert set(counts) <= set(np.flatnonzero(dist).tolist())  # never an excluded token
    expected = {t: float(p) for t, p in enumerate(dist) if p > 0}
    assert chi_square_p(counts, expected, N_SAMPLES) > 1e-3


@pytest.mark.parametrize(
    ("horizon", "prompt", "max_tokens", "knobs"),
    [
        ("sentence", [ASSISTANT], 8, {}),
        ("sentence", [ID[" and"]], 6, {"temperature": 1.3, "top_p": 0.95}),
        ("turn", [ID["!"]], 10, {"temperature": 0.8, "top_k": 3}),
    ],
)
async def test_ending_distribution_matches_sampled_endings(
    engine: MarkovEngine, horizon: str, prompt: list[int], max_tokens: int, knobs: dict
) -> None:
    ends = SENTENCE_END if horizon == "sentence" else {EOS}
    exact = engine.ending_distribution(prompt, horizon, max_tokens, **knobs)  # type: ignore[arg-type]
    assert math.isclose(math.fsum(exact.values()), 1.0, abs_tol=1e-9)
    assert all(k is None or (k[-1] in ends and not ends & set(k[:-1])) for k in exact)
    # Stopping rollouts at sentence ends must not change which endings they reach.
    stops = tuple(ends - {EOS})
    sampling = Sampling(max_tokens=max_tokens, stop_token_ids=stops, **knobs)
    outs = await run_many(engine, prompt, sampling, range(50_000, 50_000 + N_SAMPLES))
    seen = Counter(tuple(o) if o[-1] in ends else None for o in outs)
    assert set(seen) <= set(exact)
    assert chi_square_p(seen, exact, N_SAMPLES) > 1e-3


def test_ending_distribution_is_exact_on_small_cases(engine: MarkovEngine) -> None:
    dist = engine.ending_distribution([ID[" and"]], "sentence", 4)
    the, cat, dog, ran = (ID[w] for w in (" the", " cat", " dog", " ran"))
    assert dist[(the, cat, ID["."])] == pytest.approx(1.0 * 0.4 * 0.15)
    assert dist[(the, dog, ran, ID["!"])] == pytest.approx(0.6 * 0.6 * 0.4)
    assert dist[None] == pytest.approx(1 - sum(p for k, p in dist.items() if k is not None))
    assert set(engine.ending_distribution([ID["."]], "turn", 1)) == {(EOS,), None}
    with pytest.raises(AssertionError, match="pruned"):
        engine.ending_distribution([ASSISTANT], "turn", 40)


def test_sequence_distribution_is_exact(engine: MarkovEngine) -> None:
    seqs = engine.sequence_distribution([ID["."]], 4)
    assert math.isclose(math.fsum(seqs.values()), 1.0, abs_tol=1e-12)
    for seq, p in seqs.items():
        assert len(seq) == 4 or seq[-1] == EOS
        path = [ID["."], *seq]
        assert p == pytest.approx(math.prod(TRANSITIONS[a, b] for a, b in itertools.pairwise(path)))
    greedy = engine.sequence_distribution([ASSISTANT], 3, temperature=0.0)
    assert greedy == {(ID[" The"], ID[" cat"], ID[" sat"]): 1.0}


def test_temperature_top_k_top_p_transform_the_distribution(engine: MarkovEngine) -> None:
    row = TRANSITIONS[ID["."]]  # The .45, <eos> .2, \n\n .15, Yes .1, No .1
    the, eos = ID[" The"], EOS
    assert np.allclose(engine.next_token_distribution(ID["."]), row)
    assert np.allclose(engine.next_token_distribution(ID["."], 0.5), row**2 / (row**2).sum())
    hot = np.sqrt(row) / np.sqrt(row).sum()
    assert np.allclose(engine.next_token_distribution(ID["."], 2.0), hot)
    assert engine.next_token_distribution(ID["."], 0.0)[the] == 1.0
    two = np.zeros_like(row)
    two[[the, eos]] = row[[the, eos]] / row[[the, eos]].sum()
    assert np.allclose(engine.next_token_distribution(ID["."], top_k=2), two)
    assert np.allclose(engine.next_token_distribution(ID["."], top_p=0.6), two)
    assert engine.next_token_distribution(ID["."], top_p=0.4)[the] == 1.0
    # top-p applies to the top-k-renormalised distribution: .5625 + .25 already >= .7.
    assert np.allclose(engine.next_token_distribution(ID["."], top_k=3, top_p=0.7), two)
    assert np.count_nonzero(engine.next_token_distribution(ID["."], top_p=0.7)) == 3


async def test_greedy_ignores_the_seed(engine: MarkovEngine) -> None:
    outs = await run_many(engine, [ASSISTANT], Sampling(max_tokens=8, temperature=0.0), [1, 2])
    assert outs[0] == outs[1] == engine.tokenizer.encode(" The cat sat. The cat sat.")


async def test_finish_reasons_and_text(engine: MarkovEngine) -> None:
    deltas = await run(engine, [ASSISTANT], Sampling(max_tokens=500, seed=5))
    tokens = [t for d in deltas for t in d.token_ids]
    assert tokens[-1] == EOS and EOS not in tokens[:-1]
    assert (deltas[-1].finish_reason, deltas[-1].stop_reason, deltas[-1].text) == ("stop", None, "")
    assert "".join(d.text for d in deltas) == engine.tokenizer.decode(tokens)
    assert all(not d.finished for d in deltas[:-1])

    deltas = await run(engine, [ID["."]], Sampling(max_tokens=3, seed=1, ignore_eos=True))
    assert len(deltas) == 3 and deltas[-1].finish_reason == "length"

    bang = ID["!"]
    deltas = await run(
        engine, [ASSISTANT], Sampling(max_tokens=500, seed=2, stop_token_ids=(bang,))
    )
    assert (deltas[-1].token_ids, deltas[-1].finish_reason) == ([bang], "stop")
    assert deltas[-1].stop_reason == bang and deltas[-1].text == ""  # the stop token's text

    deltas = await run(engine, [ASSISTANT], Sampling(max_tokens=20, temperature=0, stop=("sat.",)))
    assert "".join(d.text for d in deltas) == " The cat "
    assert (deltas[-1].finish_reason, deltas[-1].stop_reason, len(deltas)) == ("stop", "sat.", 4)


async def test_abort_and_close_release_the_request(engine: MarkovEngine) -> None:
    sampling = Sampling(max_tokens=10_000, ignore_eos=True, seed=1)
    deltas = []
    async for d in engine.generate("a", [ASSISTANT], sampling):
        deltas.append(d)
        if len(deltas) == 5:
            await engine.abort("a")
    assert len(deltas) == 6 and (deltas[-1].token_ids, deltas[-1].finish_reason) == ([], "abort")
    assert not engine.active and engine.tokens_generated == 5

    slow = MarkovEngine(step_delay=0.001)
    task = asyncio.create_task(run(slow, [ASSISTANT], sampling))
    await asyncio.sleep(0.02)
    await slow.abort(next(iter(slow.active)))
    assert (await task)[-1].finish_reason == "abort" and not slow.active

    gen = engine.generate("b", [ASSISTANT], sampling, priority=3)
    await anext(gen)
    assert engine.active == {"b"} and engine.priorities["b"] == 3
    await gen.aclose()  # type: ignore[attr-defined]
    assert not engine.active
    await engine.abort("b")  # finished and unknown ids are ignored
    assert len(await run(engine, [ASSISTANT], sampling.with_(max_tokens=2))) == 2


async def test_logprobs_are_of_the_distribution_sampled_from(engine: MarkovEngine) -> None:
    """Like vLLM's processed_logprobs: the tempered chain, not the raw one."""
    sampling = Sampling(max_tokens=30, seed=9, logprobs=2, temperature=0.6, ignore_eos=True)
    deltas = await run(engine, [ASSISTANT], sampling)
    prev = ASSISTANT
    for d in deltas:
        assert d.logprobs is not None and len(d.logprobs) == 1
        lp, row = d.logprobs[0], engine.next_token_distribution(prev, temperature=0.6)
        assert lp.token_id == d.token_ids[0] and lp.text == VOCAB[lp.token_id]
        assert lp.logprob == pytest.approx(math.log(row[lp.token_id]))
        best = sorted(np.flatnonzero(row), key=lambda t: -row[t])[:2]
        assert [t for t, _, _ in lp.top[:2]] == best[: len(lp.top[:2])]
        assert all(x == pytest.approx(math.log(row[t])) and s == VOCAB[t] for t, x, s in lp.top)
        assert len(lp.top) == min(2, len(np.flatnonzero(row)))  # top-N only, like the adapter
        prev = lp.token_id
    (only,) = (await run(engine, [ID["."]], Sampling(max_tokens=1, seed=0, logprobs=0)))[
        0
    ].logprobs or []
    assert only.top == ()


async def test_prompt_logprobs_are_exact(engine: MarkovEngine) -> None:
    ids = engine.tokenizer.encode_rendered("<user> Yes.<eos><assistant> The dog ran!")
    scores = [e.logprob for e in await engine.prompt_logprobs(ids, 1)]
    assert scores == pytest.approx(
        [math.log(TRANSITIONS[a, b]) for a, b in itertools.pairwise(ids)]
    )
    top = await engine.prompt_logprobs(ids, 1, top_n=2)
    assert all(len(e.top) == 2 and e.top[0][1] >= e.top[1][1] for e in top)
    impossible = await engine.prompt_logprobs([ID[" the"], ID[" the"]], 1)
    assert [e.logprob for e in impossible] == [-math.inf]
    assert await engine.prompt_logprobs(ids, len(ids)) == []
    with pytest.raises(ValueError):
        await engine.prompt_logprobs(ids, 0)


async def test_invalid_requests_are_rejected(engine: MarkovEngine) -> None:
    with pytest.raises(InvalidRequestError):
        await run(engine, [], Sampling())
    with pytest.raises(InvalidRequestError):
        await run(engine, [ASSISTANT], Sampling(max_tokens=0))
    gen = engine.generate("dup", [ASSISTANT], Sampling(max_tokens=5))
    await anext(gen)
    with pytest.raises(InvalidRequestError, match="already running"):
        await run_one(engine, "dup")
    await gen.aclose()  # type: ignore[attr-defined]
    assert not engine.active
