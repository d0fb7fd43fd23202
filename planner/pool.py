"""The rollouts of one generation: launched, carried over, extended and aborted.

Invariant: a rollout keeps running only while one of the refreshes it serves still
needs tokens from it; one that disagrees with the main text stops at its next token.
Every stop decision depends only on the rollout's tokens and on which refreshes it
serves, never on its unseen future, so carried-over rollouts stay exact samples.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

from planner.budget import Lease, RolloutBudget
from planner.config import Horizon, PlanConfig, assistant_horizon
from planner.engine.protocol import Delta, Engine, FinishReason, Sampling, TokenLogprob
from planner.main_text import MainText
from planner.plan import Stats
from planner.rollout import CERTAINTY_SLACK, Outcome, Rollout
from planner.stratify import Stratum, can_stratify

log = logging.getLogger(__name__)

# Once the text is done, up to this many times K rollouts of the plan decode at once.
TAIL_IN_FLIGHT_FACTOR = 4
ROLLOUT_PRIORITY = 1  # the main sequence runs at 0: scheduled first when the batch is full


def derive_seed(seed: int | None, *parts: object) -> int | None:
    """A rollout seed from the request seed and the rollout's coordinates (None stays None)."""
    if seed is None:
        return None
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


class RolloutPool:
    """Runs rollouts in the shared engine for one planned generation."""

    def __init__(
        self,
        engine: Engine,
        prompt_ids: list[int],
        main: MainText,
        config: PlanConfig,
        sampling: Sampling,
        *,
        plan_id: str,
        stats: Stats,
        notify: Callable[[Rollout], None],
        horizons_at: Mapping[int, tuple[Horizon, ...]],
        budget: RolloutBudget | None = None,
    ) -> None:
        self.engine = engine
        self.prompt_ids = prompt_ids
        self.main = main
        self.config = config
        self.plan_id = plan_id
        self.stats = stats
        self._notify = notify
        # While the text streams, at most ``in_flight`` rollouts of this plan decode at once
        # (fewer when the server's budget is shared with other plans): the main sequence
        # shares every batch with them, and a decode step slows with the batch.
        self._budget = budget or RolloutBudget()
        self.lease: Lease | None = None  # taken by open(), given back by close()
        self._eos = engine.tokenizer.eos_token_ids
        self.user_header = engine.tokenizer.user_header_ids() if "user" in config.horizons else []
        # Rollouts sample as the request does, but alone: no stop strings, and only the
        # sampled token's logprob (the explicit candidates' own probability; no alternatives,
        # and never prompt_logprobs, which would skip the prefix cache).
        self._sampling = sampling.with_(stop=(), logprobs=0, stop_token_ids=(), ignore_eos=False)
        self._seed = sampling.seed
        # Refreshes spread their fresh rollouts over the likeliest first tokens only where
        # a ban samples the rest exactly (planner.stratify).
        self.stratified = config.sampling == "stratified" and can_stratify(sampling)
        self.rollouts: list[Rollout] = []
        # The horizons each refresh position plans (the schedule's; refresh_every thins
        # long ones): a rollout runs only as far as the refreshes it serves need.
        self.horizons_at = horizons_at
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.failures: list[Exception] = []  # engine errors of rollouts, oldest first

    # -- queries ---------------------------------------------------------------------------

    def consumed_chars(self, r: Rollout, position: int) -> int:
        return self.main.offset(position) - self.main.offset(r.start)

    def outcome(self, r: Rollout, horizon: Horizon, position: int) -> Outcome:
        return r.outcome(
            horizon,
            position,
            self.consumed_chars(r, position),
            self.config.max_lookahead_tokens,
            len(self.user_header),
        )

    def _needs(self, r: Rollout) -> tuple[bool, bool]:
        """(more assistant tokens needed, the user's reply needed)."""
        lookahead = self.config.max_lookahead_tokens
        more = user = False
        limit = 0
        for m in r.memberships:
            agrees = r.agrees(self.main.tokens, m)
            if agrees is False:
                continue
            limit = max(limit, m - r.start + lookahead + CERTAINTY_SLACK)
            if agrees is None:  # too short yet to tell whether it reproduces the main text
                more = True
                continue
            for h in self.horizons_at.get(m, self.config.horizons):
                status = self.outcome(r, assistant_horizon(h), m).status
                if status == "pending":
                    more = True
                elif h == "user" and status == "reached" and not r.user_ended:
                    user = user or r.user_tokens is None or len(r.user_tokens) < lookahead
        return more and not r.ended and len(r.tokens) < limit, user

    # -- lifecycle -------------------------------------------------------------------------

    def fresh(self, position: int, ordinal: int, stratum: Stratum | None = None) -> Rollout:
        """A new rollout from ``prompt + emitted[:position]``, serving that refresh (its
        first token drawn from ``stratum`` if given)."""
        r = Rollout(
            id=f"{self.plan_id}-t{position}-{ordinal}",
            start=position,
            seed=derive_seed(self._seed, "rollout", position, ordinal),
            context=self.main.context_before(position),
            stratum=stratum,
        )
        r.memberships.add(position)
        self.rollouts.append(r)
        self.stats.rollouts_started += 1
        self.ensure(r)
        return r

    def ensure(self, r: Rollout) -> None:
        """Start (or extend) the rollout's engine work if a refresh still needs it."""
        if r.running or r.aborted:
            return
        more, user = self._needs(r)
        if more or user:
            r.running = True
            self._tasks[r.id] = asyncio.create_task(self._run(r), name=r.id)

    def open(self) -> Lease:
        """Take this plan's lease on the rollout budget (before any refresh starts)."""
        if self.lease is None:
            self.lease = self._budget.lease(self.config.in_flight)
        return self.lease

    def refresh_size(self) -> int:
        """Rollouts a refresh starting now may use: K, or fewer when the budget is short."""
        k = self.config.rollouts
        return self.lease.rollouts(k) if self.lease is not None else k

    def main_finished(self) -> None:
        """No inter-token latency is left to protect: let more rollouts decode at once."""
        if self.lease is not None:  # bigger batches finish the plan's tail sooner
            self.lease.ask(TAIL_IN_FLIGHT_FACTOR * self.config.rollouts)

    def prune(self, floor: int) -> None:
        """Forget rollouts that no refresh can carry over any more.

        Every refresh still gathering members, or yet to come, needs agreement with the
        main text through ``floor`` at least; refreshes that hold a rollout keep it.
        """
        tokens = self.main.tokens
        if len(tokens) < floor:
            return
        self.rollouts = [r for r in self.rollouts if r.agrees(tokens, floor) is not False]

    async def close(self) -> None:
        """Abort everything still running."""
        tasks = [t for t in self._tasks.values() if not t.done()]
        for task in tasks:
            task.cancel()
        try:
            await asyncio.gather(*tasks, return_exceptions=True)
        finally:
            self._tasks.clear()
            if self.lease is not None:
                self.lease.close()  # the share goes back even if this close is cancelled

    async def _run(self, r: Rollout) -> None:
        try:
            async with (self.lease or self.open()).slot():
                more, _ = self._needs(r)
                if more:
                    await self._generate(r)
                _, user = self._needs(r)
                if user and r.ended:
                    await self._generate_user(r)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("rollout %s failed: %r", r.id, exc)
            r.aborted = True
            self.failures.append(exc)
        finally:
            r.running = False
            self._tasks.pop(r.id, None)
            self._notify(r)

    async def _generate(self, r: Rollout) -> None:
        if r.stratum is not None and not r.tokens:
            await self._first_token(r, r.stratum)
            if not self._needs(r)[0]:
                return
        limit = max(
            m - r.start + self.config.max_lookahead_tokens + CERTAINTY_SLACK for m in r.memberships
        )
        prompt = self.prompt_ids + self.main.tokens[: r.start] + r.tokens
        await self._stream(r, prompt, limit - len(r.tokens), user=False)

    async def _generate_user(self, r: Rollout) -> None:
        r.user_tokens = r.user_tokens or []
        head = self.prompt_ids + self.main.tokens[: r.start] + r.tokens + self.user_header
        budget = self.config.max_lookahead_tokens - len(r.user_tokens)
        await self._stream(r, head + r.user_tokens, budget, user=True)

    async def _first_token(self, r: Rollout, s: Stratum) -> None:
        """The first token of a designed rollout: the forced one, or one of the rest."""
        if s.token is not None:  # its probability is the main sequence's report of it
            lp = [TokenLogprob(s.token, s.logprob, s.text)]
            reason: FinishReason | None = "stop" if s.token in self._eos else None
            r.add(Delta([s.token], s.text, lp, reason), self._eos)
            self._notify(r)
            return
        prompt = self.prompt_ids + self.main.tokens[: r.start]
        await self._stream(r, prompt, 1, user=False, banned=s)

    async def _stream(
        self,
        r: Rollout,
        prompt: list[int],
        budget: int,
        *,
        user: bool,
        banned: Stratum | None = None,
    ) -> None:
        """One engine request continuing ``r`` (its turn, or the user's reply after it);
        with ``banned``, the one-token draw of the rest of a stratified refresh."""
        if budget <= 0:
            return
        # Seeds follow the rollout's coordinates (request seed, position, ordinal), not its
        # id, so a seeded plan repeats whatever the plan is called.
        phase = "user" if user else "turn"
        sampling = self._sampling.with_(
            max_tokens=budget, seed=derive_seed(r.seed, phase, r.requests)
        )
        if banned is not None:
            sampling = sampling.with_(banned_token_ids=tuple(sorted(banned.banned)))
        request_id = f"{r.id}.{phase}{r.requests}"
        r.requests += 1
        stream = self.engine.generate(request_id, prompt, sampling, priority=ROLLOUT_PRIORITY)
        first = True
        try:
            async for delta in stream:
                if first:  # the engine reports its prefix-cache hits with the first output
                    first = False
                    self.stats.rollout_prompt_tokens += len(prompt)
                    self.stats.rollout_cached_prompt_tokens += delta.num_cached_tokens
                if banned is not None:
                    # The engine reports p(v | not banned) = p(v) / p(rest): make it p(v).
                    delta.logprobs = [
                        replace(lp, logprob=lp.logprob + banned.logprob)
                        for lp in delta.logprobs or ()
                    ]
                    if set(delta.token_ids) & self._eos:  # the turn ends, whatever the cap
                        delta.finish_reason = "stop"
                if user:
                    r.add_user(delta, self._eos)
                else:
                    r.add(delta, self._eos)
                self.stats.rollout_tokens += len(delta.token_ids)
                self._notify(r)
                if not user and delta.finish_reason is None and not self._needs(r)[0]:
                    self.stats.rollouts_aborted += 1
                    break  # closing the stream aborts the engine request
        finally:
            await stream.aclose()  # type: ignore[attr-defined]
