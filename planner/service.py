"""The planner's face: check a plan request, run it, keep plans and find them again.

``Planner.begin`` is the one call an endpoint makes for a planned request: it checks the
plan against the server's limits, claims the requested plan ids atomically in the store,
scores the previous turn's plan against the new user message, and returns the
``PlannedRequest`` that runs each choice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import NoReturn

from planner.budget import RolloutBudget
from planner.climatology import Climatology
from planner.clustering import Clusterer, make_clusterer
from planner.config import PlanConfig, PlanLimits, PlanRequest
from planner.conversation import continued_turn
from planner.engine.protocol import Engine, Sampling
from planner.errors import ContextLengthError, InvalidRequestError, NotFoundError, StoreError
from planner.events import PlanFinished
from planner.follow import follow
from planner.next_turn import score_next_turn
from planner.plan import NextTurn, Plan, PlanResult
from planner.planned_request import Keeper, Messages, PlannedRequest, choice_plan_id, result_of
from planner.store import PlanRecord, PlanStore
from planner.user_reply import assistant_turn_ids, user_reply


def _ignore(operation: str) -> None:
    """Default store-failure hook: nothing counts them."""


class Planner:
    """Plans requests in a shared engine and keeps their plans in a store."""

    def __init__(
        self,
        store: PlanStore,
        limits: PlanLimits,
        *,
        on_store_error: Callable[[str], None] = _ignore,
        budget: RolloutBudget | None = None,
    ) -> None:
        self.store = store
        self.limits = limits
        self.keeper = Keeper(store, on_store_error)
        self._on_store_error = on_store_error
        self._clusterers: dict[str, Clusterer] = {}
        self._clusterer_lock = asyncio.Lock()
        # Rollout decode slots across every plan of the process, shared max-min fairly.
        self.budget = budget or RolloutBudget(limits.budget_slots)
        # Endings of finished plans: the climatology baseline later plans are scored against.
        self.climatology = Climatology()

    # -- shared resources ------------------------------------------------------------------

    async def clusterer(self, mode: str) -> Clusterer:
        """One clusterer per mode for the process (the embedding model loads once)."""
        async with self._clusterer_lock:
            if mode not in self._clusterers:
                self._clusterers[mode] = await asyncio.to_thread(make_clusterer, mode)  # type: ignore[arg-type]
            return self._clusterers[mode]

    async def warm(self, mode: str = PlanConfig().clustering) -> None:
        """Load the clusterer for ``mode`` and run it once (its first call is the slow one)."""
        clusterer = await self.clusterer(mode)
        await asyncio.to_thread(clusterer.cluster, ["warm", "up"])

    def has_clusterer(self, mode: str) -> bool:
        return mode in self._clusterers

    # -- planned requests ------------------------------------------------------------------

    async def begin(
        self,
        engine: Engine,
        request: PlanRequest,
        *,
        n: int,
        model: str,
        request_id: str,
        messages: Messages | None = None,
    ) -> PlannedRequest:
        """Check, claim and link a planned request (``messages`` for chat); 4xx errors are
        raised here, before any response starts."""
        config = self.check(request, chat=messages is not None)
        named = await self._named(request.previous_id)
        claimed = await self._claim(config, n, model)
        previous = None
        if messages is not None:
            try:
                previous = await self._previous_turn(engine, messages, request, named)
            except BaseException:
                for plan_id in claimed:
                    await self.keeper.release(plan_id)
                raise
        return PlannedRequest(
            self,
            engine,
            config,
            model=model,
            request_id=request_id,
            messages=messages,
            previous=previous,
            claimed=claimed,
        )

    def check(self, request: PlanRequest, *, chat: bool) -> PlanConfig:
        """The request's plan config, or a 400 naming the field that breaks a limit."""
        lim = self.limits
        if request.rollouts > lim.max_rollouts:
            raise InvalidRequestError(
                f"plan.rollouts must be at most {lim.max_rollouts} on this server.",
                param="plan.rollouts",
            )
        if request.max_lookahead_tokens > lim.max_lookahead_tokens:
            raise InvalidRequestError(
                f"plan.max_lookahead_tokens must be at most {lim.max_lookahead_tokens} "
                "on this server.",
                param="plan.max_lookahead_tokens",
            )
        for h in request.horizons:
            if h not in lim.allowed_horizons:
                raise InvalidRequestError(
                    f"horizon '{h}' is not allowed on this server.", param="plan.horizons"
                )
        if "user" in request.horizons and not chat:
            raise InvalidRequestError(
                "the 'user' horizon needs a chat conversation (/v1/chat/completions).",
                param="plan.horizons",
            )
        return request.config()

    async def _claim(self, config: PlanConfig, n: int, model: str) -> list[str]:
        """Claim every choice's requested plan id, all or none (a 400 if one is taken)."""
        if config.id is None:
            return []  # generated ids are unique
        claimed: list[str] = []
        for i in range(n):
            plan_id = choice_plan_id(config.id, i)
            placeholder = PlanRecord(
                plan=Plan(id=plan_id, config=config, prompt_tokens=0),
                model=model,
                created=time.time(),
            )
            try:
                won = await self.store.add(placeholder)
            except StoreError:
                self._on_store_error("add")
                continue  # the text is still served; its plan will say stored: false
            if not won:
                for taken in claimed:
                    await self.keeper.release(taken)
                raise InvalidRequestError(f"a plan with id '{plan_id}' exists.", param="plan.id")
            claimed.append(plan_id)
        return claimed

    async def _named(self, previous_id: str | None) -> PlanRecord | None:
        """The plan ``plan.previous_id`` names: a 404 if none is stored (never silently
        ignored); None if no id was given or the store cannot answer (the text matters
        more than the link to the previous turn, which is then not made)."""
        if previous_id is None:
            return None
        try:
            record = await self.store.get(previous_id)
        except StoreError:
            self._on_store_error("get")
            return None
        if record is None:
            raise_not_found(previous_id, param="plan.previous_id")
        return record

    async def _previous_turn(
        self, engine: Engine, messages: Messages, request: PlanRequest, named: PlanRecord | None
    ) -> NextTurn | None:
        """Find the plan of the previous turn and score it against the new user message."""
        turn = continued_turn(messages)
        if turn is None:
            return None
        key, assistant, user = turn
        try:
            record = named or await self._latest(key, assistant)
        except StoreError:
            self._on_store_error("get")
            return None
        if record is None:
            return None
        tok = engine.tokenizer
        prompt = tok.encode_rendered(tok.render_chat(messages[:-2], add_generation_prompt=True))
        reply = await user_reply(engine, [*prompt, *assistant_turn_ids(engine, assistant)], user)
        result = score_next_turn(
            record.plan, reply, assistant, await self.clusterer(request.clustering)
        )
        try:
            await self.store.update_next_turn(record.id, result.model_dump(mode="json"))
        except StoreError:
            self._on_store_error("put")
        return result

    async def _latest(self, key: str, assistant: str) -> PlanRecord | None:
        """The newest plan that answered the same messages (by the conversation hash)."""
        candidates = await self.store.find_turn(key)
        for record in candidates:  # newest first; with n > 1, the choice the client kept
            if record.plan.text.strip() == assistant.strip():
                return record
        return candidates[0] if candidates else None

    # -- a given text ----------------------------------------------------------------------

    async def analyze(
        self,
        engine: Engine,
        messages: Messages,
        assistant: str,
        user: str | None,
        request: PlanRequest,
        sampling: Sampling,
        model: str,
    ) -> PlanResult:
        """Plan along a given assistant reply (and score against the given user reply)."""
        config = self.check(request, chat=True)
        if "user" in config.horizons and user is None:
            config = config.model_copy(
                update={"horizons": tuple(h for h in config.horizons if h != "user") or ("turn",)}
            )
        tok = engine.tokenizer
        prompt = tok.encode_rendered(tok.render_chat(messages, add_generation_prompt=True))
        given = len(tok.encode(assistant)) + 1 + (len(tok.encode(user)) + 8 if user else 0)
        if len(prompt) + given > engine.max_model_len:
            raise ContextLengthError(
                f"messages, assistant and user need {len(prompt) + given} tokens; the context "
                f"holds {engine.max_model_len}.",
                param="assistant",
            )
        claimed = await self._claim(config, 1, model)
        plan: Plan | None = None
        try:
            clusterer = await self.clusterer(config.clustering)
            generation = await follow(
                engine,
                prompt,
                assistant,
                config,
                clusterer,
                sampling=sampling,
                user=user,
                budget=self.budget,
                climatology=self.climatology,
            )
            async for event in generation.events():
                if isinstance(event, PlanFinished):
                    plan = event.plan
            assert plan is not None
            return await self.keeper.keep(plan, model, messages, None)
        finally:
            if plan is None:
                for plan_id in claimed:
                    await self.keeper.release(plan_id)

    # -- plans as resources ----------------------------------------------------------------

    async def get(self, plan_id: str) -> PlanResult:
        record = await self.store.get(plan_id)
        if record is None:
            raise_not_found(plan_id)
        return result_of(record, stored=True)

    async def list(self, conversation: str, limit: int) -> Sequence[PlanResult]:
        records = await self.store.list(conversation, limit)
        return [result_of(r, stored=True) for r in records]

    async def delete(self, plan_id: str) -> None:
        if not await self.store.delete(plan_id):
            raise_not_found(plan_id)

    async def close(self) -> None:
        await self.store.close()


def raise_not_found(plan_id: str, param: str | None = None) -> NoReturn:
    raise NotFoundError(f"No plan with id '{plan_id}'.", param=param, code="plan_not_found")
