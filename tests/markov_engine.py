"""A synthetic engine of known distribution: a first-order Markov chain over 15 tokens.

It implements the planner's ``Engine`` protocol with vLLM-like sampling semantics, so
planner code runs on it unchanged, and it can compute *exact* next-token, sequence and
ending distributions, against which statistical tests compare what the planner samples.
The server tests serve it over HTTP too (``tests/server/conftest.py``), since it also
renders chats and has a user header. Tests import it as ``from markov_engine import ...``:
``tests/conftest.py`` sits beside it, so pytest's prepend import mode puts ``tests/`` on
``sys.path`` (``tests/`` has no ``__init__.py``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from planner.engine.protocol import Delta, FinishReason, Sampling, TokenLogprob
from planner.errors import EngineUnavailableError, InvalidRequestError

if TYPE_CHECKING:
    from planner.engine.protocol import Engine

VOCAB: tuple[str, ...] = (
    "<eos>", "<user>", "<assistant>", " The", " the", " cat", " dog", " sat", " ran", " and",
    ".", "!", "\n\n", " Yes", " No",
)  # fmt: skip
ID: dict[str, int] = {text: i for i, text in enumerate(VOCAB)}
EOS, USER, ASSISTANT = ID["<eos>"], ID["<user>"], ID["<assistant>"]
SPECIAL = frozenset({EOS, USER, ASSISTANT})
SENTENCE_END = frozenset({EOS, ID["."], ID["!"], ID["\n\n"]})
TURN_END = frozenset({EOS})
PRUNE = 1e-12  # exact enumerations drop paths below this probability
_GREEDY_EPS = 1e-5  # vLLM treats temperatures below this as greedy

# Capitalised " The" only at sentence starts, so sentence splitters on text agree with
# SENTENCE_END. No row has a tie at its maximum, so greedy decoding is unambiguous.
_CHAIN: dict[str, dict[str, float]] = {
    "<eos>": {"<user>": 0.7, "<assistant>": 0.3},  # reached only with ignore_eos
    "<user>": {" The": 0.6, " Yes": 0.25, " No": 0.15},
    "<assistant>": {" The": 0.6, " Yes": 0.25, " No": 0.15},
    " The": {" cat": 0.55, " dog": 0.45},
    " the": {" cat": 0.4, " dog": 0.6},
    " cat": {" sat": 0.65, " ran": 0.2, ".": 0.15},
    " dog": {" ran": 0.6, " sat": 0.2, "!": 0.2},
    " sat": {".": 0.5, "!": 0.2, " and": 0.3},
    " ran": {"!": 0.4, ".": 0.35, " and": 0.25},
    " and": {" the": 1.0},
    ".": {" The": 0.45, " Yes": 0.1, " No": 0.1, "\n\n": 0.15, "<eos>": 0.2},
    "!": {" The": 0.4, " Yes": 0.1, " No": 0.05, "\n\n": 0.2, "<eos>": 0.25},
    "\n\n": {" The": 0.55, " Yes": 0.2, " No": 0.15, "<eos>": 0.1},
    " Yes": {".": 0.4, "!": 0.35, " and": 0.25},
    " No": {".": 0.55, "!": 0.2, " and": 0.25},
}
TRANSITIONS = np.zeros((len(VOCAB), len(VOCAB)))
for _prev, _row in _CHAIN.items():
    for _next, _p in _row.items():
        TRANSITIONS[ID[_prev], ID[_next]] = _p
assert np.allclose(TRANSITIONS.sum(axis=1), 1.0)
TRANSITIONS.flags.writeable = False


class UntokenizableError(InvalidRequestError, ValueError):
    """Text outside the vocabulary (a ``ValueError``, and a 400 for the server)."""


class MarkovTokenizer:
    """Greedy longest-match tokenizer over ``VOCAB``; implements ``Tokenizer``."""

    @property
    def eos_token_ids(self) -> frozenset[int]:
        return frozenset({EOS})

    @property
    def vocab_size(self) -> int:
        return len(VOCAB)

    def encode(self, text: str) -> list[int]:
        """Token ids of text; special-token strings are recognised, like HF tokenizers."""
        ids, i = [], 0
        while i < len(text):
            match = max((t for t in VOCAB if text.startswith(t, i)), key=len, default=None)
            if match is None:
                raise UntokenizableError(f"cannot tokenize {text[i : i + 20]!r}")
            ids.append(ID[match])
            i += len(match)
        return ids

    def encode_rendered(self, text: str) -> list[int]:
        """Same as ``encode``: special tokens are always parsed."""
        return self.encode(text)

    def decode(self, token_ids: Sequence[int]) -> str:
        """Concatenated token texts, skipping special tokens."""
        return "".join(VOCAB[t] for t in token_ids if t not in SPECIAL)

    def token_text(self, token_id: int) -> str:
        """The raw text of one token, special tokens included (as in logprobs)."""
        return VOCAB[token_id]

    def render_chat(self, messages: Sequence[dict[str, str]], add_generation_prompt: bool) -> str:
        """``<user>content<eos>`` / ``<assistant>content<eos>`` per message (system = user)."""
        header = {"system": "<user>", "user": "<user>", "assistant": "<assistant>"}
        parts = []
        for m in messages:
            if m.get("role") not in header:
                raise InvalidRequestError(f"unknown role {m.get('role')!r}", param="messages")
            parts.append(f"{header[m['role']]}{m.get('content', '')}<eos>")
        return "".join(parts) + ("<assistant>" if add_generation_prompt else "")

    def user_header_ids(self) -> list[int]:
        """An assistant turn ends ``<eos>``; the next user turn opens with ``<user>``."""
        return [USER]


@lru_cache(maxsize=256)
def _sampling_matrix(
    temperature: float, top_p: float, top_k: int, banned: tuple[int, ...] = ()
) -> np.ndarray:
    """Row ``prev`` is the distribution the sampler draws from after token ``prev``.

    ``banned`` tokens are masked first, as vLLM's ``allowed_token_ids`` does (a row with
    nothing left is all zeros: such a request is invalid).
    """
    chain = TRANSITIONS.copy()
    chain[:, list(banned)] = 0.0
    if temperature < _GREEDY_EPS:
        q = np.zeros_like(chain)
        q[np.arange(len(VOCAB)), chain.argmax(axis=1)] = 1.0
        q[chain.sum(axis=1) == 0.0] = 0.0
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            logits = np.log(chain) / temperature
            q = np.exp(logits - logits.max(axis=1, keepdims=True))
            q /= q.sum(axis=1, keepdims=True)
        q[~np.isfinite(q)] = 0.0
        for row in q:  # vLLM order: temperature, then top-k, then top-p on the renormalised
            if row.sum() == 0.0:
                continue
            order = np.argsort(-row, kind="stable")  # ties keep the lower token id
            if 0 < top_k < len(VOCAB):
                row[order[top_k:]] = 0.0
                row /= row.sum()
            if top_p < 1.0:
                ranked = row[order]
                row[order[np.cumsum(ranked) - ranked >= top_p]] = 0.0  # keeps >= 1 token
                row /= row.sum()
    q.flags.writeable = False
    return q


def _matrix(s: Sampling) -> np.ndarray:
    return _sampling_matrix(
        float(s.temperature), float(s.top_p), int(s.top_k), tuple(sorted(s.banned_token_ids))
    )


def _stops(token: int, s: Sampling) -> bool:
    """Whether the request itself stops at this token (not counting max_tokens)."""
    return (token == EOS and not s.ignore_eos) or token in s.stop_token_ids


class MarkovEngine:
    """The chain ``TRANSITIONS`` served through the ``Engine`` protocol.

    Each request draws from its own ``numpy.random.default_rng(seed)``, so seeded output
    is independent of concurrent requests. ``step_delay`` seconds elapse per token.
    """

    def __init__(self, *, step_delay: float = 0.0, max_model_len: int = 4096) -> None:
        self._tokenizer = MarkovTokenizer()
        self._step_delay = step_delay
        self._max_model_len = max_model_len
        self._aborted: set[str] = set()
        self.requests_started = 0
        self.tokens_generated = 0
        self.active: set[str] = set()
        self.priorities: dict[str, int] = {}  # request id -> priority it was submitted with
        self.stopped = False

    @property
    def tokenizer(self) -> MarkovTokenizer:
        return self._tokenizer

    @property
    def model_name(self) -> str:
        return "markov-test"

    @property
    def max_model_len(self) -> int:
        return self._max_model_len

    async def generate(
        self, request_id: str, prompt_ids: Sequence[int], sampling: Sampling, *, priority: int = 0
    ) -> AsyncIterator[Delta]:
        """Stream one token per delta until EOS / a stop token or string / max_tokens / abort."""
        s, prompt = sampling, list(prompt_ids)
        if not 0 < len(prompt) <= self._max_model_len or s.max_tokens < 1:
            raise InvalidRequestError("the prompt must be non-empty and fit; max_tokens >= 1")
        if request_id in self.active:
            raise InvalidRequestError(f"request id {request_id!r} is already running")
        if self.stopped:
            raise EngineUnavailableError("the engine has shut down")
        q, want_lp = _matrix(s), s.logprobs is not None
        # Any 64-bit seed, negative ones too, as torch's generator takes it (mod 2**64).
        rng = np.random.default_rng(None if s.seed is None else s.seed % 2**64)
        # Like vLLM's detokenizer, hold back text that may be the start of a stop string.
        hold = max((len(x) for x in s.stop), default=1) - 1
        self.active.add(request_id)
        self.requests_started += 1
        self.priorities[request_id] = priority
        out: list[int] = []
        text, sent = "", 0
        try:
            while True:
                await asyncio.sleep(self._step_delay)
                if request_id in self._aborted:
                    yield Delta([], "", [] if want_lp else None, finish_reason="abort")
                    return
                prev = out[-1] if out else prompt[-1]
                if s.temperature < _GREEDY_EPS:
                    token = int(np.argmax(q[prev]))  # greedy draws no randomness
                else:
                    cdf = np.cumsum(q[prev])
                    token = int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))
                out.append(token)
                self.tokens_generated += 1
                finish: FinishReason | None = None
                reason: int | str | None = None
                # vLLM's order: the length cap wins over EOS and stop tokens.
                if len(out) >= s.max_tokens or len(prompt) + len(out) >= self._max_model_len:
                    finish = "length"
                elif _stops(token, s):
                    finish, reason = "stop", (None if token == EOS else token)
                start = max(0, len(text) - hold)
                if finish != "stop" and token not in SPECIAL:  # a stop token's text is dropped
                    text += VOCAB[token]
                hits = [(i, x) for x in s.stop if (i := text.find(x, start)) >= 0]
                if hits:
                    cut, stop_str = min(hits)
                    text, finish, reason = text[:cut], "stop", stop_str
                visible = len(text) if finish else max(sent, len(text) - hold)
                lp = [_logprob(q[prev], token, s.logprobs)] if s.logprobs is not None else None
                yield Delta([token], text[sent:visible], lp, finish, reason)
                sent = visible
                if finish:
                    return
        finally:  # runs on normal end, abort and aclose() alike
            self.active.discard(request_id)
            self._aborted.discard(request_id)

    async def abort(self, request_id: str) -> None:
        """The request finishes with ``"abort"`` at its next step; unknown ids are ignored."""
        if request_id in self.active:
            self._aborted.add(request_id)

    def shutdown(self) -> None:
        """Like the vLLM adapter's: abort what runs and refuse new requests."""
        self.stopped = True
        self._aborted.update(self.active)

    async def prompt_logprobs(
        self, token_ids: Sequence[int], start: int, top_n: int = 0
    ) -> list[TokenLogprob]:
        """Exact ``log P[t[i-1], t[i]]`` for i in [start, len) (``-inf`` if impossible)."""
        if not 0 < start <= len(token_ids):
            raise ValueError("start must be in (0, len(token_ids)]")
        pairs = zip(token_ids[start - 1 : -1], token_ids[start:], strict=True)
        return [_logprob(TRANSITIONS[a], b, top_n) for a, b in pairs]

    def next_token_distribution(
        self, prev_token: int, temperature: float = 1.0, top_p: float = 1.0, top_k: int = 0
    ) -> np.ndarray:
        """The distribution the sampler draws the token after ``prev_token`` from."""
        return _sampling_matrix(float(temperature), float(top_p), int(top_k))[prev_token].copy()

    def sequence_distribution(
        self, prompt_ids: Sequence[int], n_tokens: int, **sampling: Any
    ) -> dict[tuple[int, ...], float]:
        """P(output) for every output of ``n_tokens`` tokens, or shorter ending in a stop.

        ``sampling`` takes ``Sampling`` fields (temperature, top_p, top_k, ignore_eos,
        stop_token_ids); ``max_tokens``, ``seed`` and ``logprobs`` are ignored.
        """
        s = Sampling(**sampling)
        q, done = _matrix(s), dict[tuple[int, ...], float]()
        frontier: dict[tuple[int, ...], float] = {(): 1.0}
        for step in range(n_tokens):
            grown: dict[tuple[int, ...], float] = {}
            for seq, p in frontier.items():
                row = q[seq[-1] if seq else prompt_ids[-1]]
                for t in np.flatnonzero(row).tolist():
                    last = _stops(t, s) or step == n_tokens - 1
                    (done if last else grown)[(*seq, t)] = p * float(row[t])
            frontier = grown
        return done

    def ending_distribution(
        self,
        prompt_ids: Sequence[int],
        horizon: Literal["sentence", "turn"],
        max_tokens: int,
        **sampling: Any,
    ) -> dict[tuple[int, ...] | None, float]:
        """P(continuation up to and including the horizon's end token); ``None`` = not reached.

        A continuation that stops early (a stop token that does not end the horizon) or
        runs ``max_tokens`` without ending counts as ``None``. Paths below ``PRUNE`` are
        dropped; the result is checked to still sum to 1 within 1e-9.
        """
        ends = SENTENCE_END if horizon == "sentence" else TURN_END
        s = Sampling(**sampling)
        q = _matrix(s)
        succ = [[(t, float(q[r, t])) for t in np.flatnonzero(q[r]).tolist()] for r in range(len(q))]
        out: dict[tuple[int, ...] | None, float] = {None: 0.0}
        stack: list[tuple[tuple[int, ...], float]] = [((), 1.0)]
        pruned = 0.0
        while stack:  # depth-first keeps memory at O(max_tokens * branching)
            seq, p = stack.pop()
            for t, pt in succ[seq[-1] if seq else prompt_ids[-1]]:
                key, pk = (*seq, t), p * pt
                if pk < PRUNE:
                    pruned += pk  # fail fast rather than enumerate for minutes, then fail
                    assert pruned < 1e-9, f"pruned mass > 1e-9 at {max_tokens=}: lower it"
                    continue
                if t in ends:
                    out[key] = pk
                elif _stops(t, s) or len(key) >= max_tokens:
                    out[None] += pk
                else:
                    stack.append((key, pk))
        total = math.fsum(out.values())
        assert abs(total - 1.0) < 1e-9, f"pruned mass {1 - total:.3g}: lower max_tokens"
        return out


def _logprob(row: np.ndarray, token: int, n: int) -> TokenLogprob:
    """Log-probs of ``token`` and the top-n possible tokens of ``row``, best first.

    Generated tokens get the row they were sampled from, as vLLM's ``processed_logprobs``
    mode (the engine's default here) reports; prompt tokens get the raw chain's.
    """
    ranked = [t for t in np.argsort(-row, kind="stable")[:n].tolist() if row[t] > 0]
    top = tuple((t, _log(row[t]), VOCAB[t]) for t in ranked)
    return TokenLogprob(token, _log(row[token]), VOCAB[token], top)


def _log(p: float) -> float:
    return math.log(p) if p > 0 else -math.inf


if TYPE_CHECKING:

    def _implements_engine(engine: MarkovEngine) -> Engine:
        return engine  # mypy checks that MarkovEngine satisfies the protocol


def chat_prompt(engine: MarkovEngine) -> list[int]:
    """The token ids of a one-message chat (" Yes.") ready for the assistant's turn."""
    tok = engine.tokenizer
    return tok.encode_rendered(tok.render_chat([{"role": "user", "content": " Yes."}], True))
