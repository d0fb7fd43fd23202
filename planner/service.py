"""The planner's face: check a plan request, run it, keep plans and find them again.

``Planner.begin`` is the one call an endpoint makes for a planned request: it checks the
plan against the server's limits, claims the requested plan ids atomically in the store,
scores the previous turn's plan against the new user message, and returns the
``PlannedRequest`` that runs each choice.

Tenancy: every call names the ``tenant`` it acts for (the identity of the caller's API
key; None on a server without auth). A plan, its conversation and its previous-turn lookup
belong to the tenant that made it: for any other tenant a plan is exactly as absent as an
unknown id (404), and lists and turn lookups never show it. Records stored before tenancy
have no owner and belong to the server without auth. Plan ids stay one namespace: a
``plan.id`` another tenant already holds is refused like one's own (taken), and nothing of
that plan is revealed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import NoReturn

from planner.analysis import GivenText, analyze
from planner.budget import RolloutBudget
from planner.climatology import Climatology
from planner.clustering import Clusterer, make_clusterer
from planner.config import PlanConfig, PlanLimits, PlanRequest
from planner.conversation import continued_turn
from planner.engine.protocol import Engine, Sampling
from planner.errors import InvalidRequestError, NotFoundError, StoreError
from planner.next_turn import score_next_turn
from planner.plan import NextTurn, Plan, PlanResult
from planner.planned_request import Keeper, Messages, PlannedRequest, choice_plan_id, result_of
from planner.store import PlanRecord, PlanStore
from planner.user_reply import assistant_turn_ids, user_reply

log = logging.getLogger(__name__)
SETTLE_WAIT = 10.0  # seconds ``close`` waits for plans still being stored before it closes


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
        tenant: str | None,
    ) -> PlannedRequest:
        """Check, claim and link a planned request (``messages`` for chat); 4xx errors are
        raised here, before any response starts."""
        config = self.limits.check(request, chat=messages is not None)
        named = await self._named(request.previous_id, tenant)
        claimed = await self.claim(config, n, model, tenant)
        previous = None
        if messages is not None:
            try:
                previous = await self._previous_turn(engine, messages, request, named, tenant)
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
            tenant=tenant,
        )

    async def claim(self, config: PlanConfig, n: int, model: str, tenant: str | None) -> list[str]:
        """Claim every choice's requested plan id, all or none (a 400 if one is taken, by
        this tenant or another: ids are global, and the error names only the id)."""
        if config.id is None:
            return []  # generated ids are unique
        claimed: list[str] = []
        for i in range(n):
            plan_id = choice_plan_id(config.id, i)
            placeholder = PlanRecord(
                plan=Plan(id=plan_id, config=config, prompt_tokens=0),
                model=model,
                owner=tenant,
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

    async def _named(self, previous_id: str | None, tenant: str | None) -> PlanRecord | None:
        """The plan ``plan.previous_id`` names: a 404 if the tenant has none by that id
        (never silently ignored); None if no id was given or the store cannot answer (the
        text matters more than the link to the previous turn, which is then not made)."""
        if previous_id is None:
            return None
        try:
            record = await self.store.get(previous_id)
        except StoreError:
            self._on_store_error("get")
            return None
        if record is None or record.owner != tenant:
            raise_not_found(previous_id, param="plan.previous_id")
        return record

    async def _previous_turn(
        self,
        engine: Engine,
        messages: Messages,
        request: PlanRequest,
        named: PlanRecord | None,
        tenant: str | None,
    ) -> NextTurn | None:
        """Find the plan of the previous turn and score it against the new user message."""
        turn = continued_turn(messages, tenant=tenant)
        if turn is None:
            return None
        key, assistant, user = turn
        try:
            record = named or await self._latest(key, assistant, tenant)
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

    async def _latest(self, key: str, assistant: str, tenant: str | None) -> PlanRecord | None:
        """The tenant's newest plan that answered the same messages (by the turn hash, which
        the tenant is part of; the owner check also holds for a key that was guessed)."""
        candidates = [r for r in await self.store.find_turn(key) if r.owner == tenant]
        for record in candidates:  # newest first; with n > 1, the choice the client kept
            if record.plan.text.strip() == assistant.strip():
                return record
        # No text matched: the newest plan of these messages, but never one cut short at
        # shutdown (its text is a fragment of a reply the client never saw whole).
        whole = [r for r in candidates if not r.plan.cancelled]
        return whole[0] if whole else None

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
        *,
        tenant: str | None,
    ) -> PlanResult:
        """Plan along a given assistant reply (and score against the given user reply)."""
        given = GivenText(messages, assistant, user, model, tenant)
        return await analyze(self, engine, given, request, sampling)

    # -- plans as resources ----------------------------------------------------------------

    async def get(self, plan_id: str, *, tenant: str | None) -> PlanResult:
        """The tenant's plan by id; a 404 if there is none or another tenant's."""
        return result_of(await self._owned(plan_id, tenant), stored=True)

    async def list(
        self, conversation: str, limit: int, *, tenant: str | None
    ) -> Sequence[PlanResult]:
        """The tenant's plans of a conversation, newest first. A conversation id is derived
        with its tenant, so another tenant's id lists nothing (its records are also
        filtered out by owner, should such an id be computed)."""
        records = await self.store.list(conversation, limit)
        return [result_of(r, stored=True) for r in records if r.owner == tenant]

    async def delete(self, plan_id: str, *, tenant: str | None) -> None:
        """Delete the tenant's plan; a 404 if there is none or another tenant's."""
        if not await self.store.delete_owned(plan_id, tenant):
            raise_not_found(plan_id)  # none, or another tenant's: the same answer

    async def _owned(self, plan_id: str, tenant: str | None) -> PlanRecord:
        record = await self.store.get(plan_id)
        if record is None or record.owner != tenant:
            raise_not_found(plan_id)  # the same answer: another tenant's plan is not there
        return record

    def keep_cancelled(self) -> None:
        """From now on, a request that is cancelled keeps its plan as far as it got, marked
        ``cancelled``, instead of dropping it (the server calls this as it aborts its last
        requests at shutdown)."""
        self.keeper.keep_cancelled = True

    async def close(self, settle_wait: float = SETTLE_WAIT) -> None:
        """Close the store once the plans of ended requests are written (requests cancelled
        at shutdown store theirs in tasks of their own), waiting ``settle_wait`` s at most."""
        unsettled = await self.keeper.settled(settle_wait)
        if unsettled:
            log.warning("closing the plan store with %d plan writes unfinished", unsettled)
        await self.store.close()


def raise_not_found(plan_id: str, param: str | None = None) -> NoReturn:
    raise NotFoundError(f"No plan with id '{plan_id}'.", param=param, code="plan_not_found")
