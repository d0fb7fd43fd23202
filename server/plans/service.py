"""Plans for requests: check the `plan` field, run planned choices, store and find plans.

The planner does the planning; this module only wires it to requests, the store and
metrics.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from planner.clustering import Clusterer, make_clusterer
from planner.config import PlanConfig, PlanLimits
from planner.conversation import continued_turn, conversation_id, turn_key
from planner.engine.protocol import Engine, Sampling
from planner.errors import ContextLengthError, InvalidRequestError, NotFoundError, StoreError
from planner.events import PlanFinished, ScoreReady, SnapshotReady
from planner.follow import follow
from planner.generation import PlannedGeneration
from planner.next_turn import score_next_turn
from planner.plan import NextTurn, Plan
from planner.store import PlanRecord, PlanStore
from server import plan_metrics
from server.choices import ChoiceEvent, ChoiceJob, ChoiceRunner, FinalPlan
from server.plans.protocol import PlanRequest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatContext:
    """What a planned chat request knows about its conversation."""

    messages: list[dict[str, str]]
    previous: NextTurn | None = None


def plan_payload(
    plan: Plan,
    record: PlanRecord | None,
    *,
    stored: bool,
    store_error: str | None = None,
) -> dict[str, Any]:
    """The plan object the API returns (and streams at the end of each choice)."""
    body = plan.model_dump(mode="json")
    body["object"] = "plan"
    body["stored"] = stored
    if store_error:
        body["store_error"] = store_error
    if record is not None:
        body["conversation"] = record.conversation
        body["model"] = record.model
        body["created"] = record.created
        body["next_turn"] = record.next_turn
    return body


class PlanService:
    """Everything the HTTP layer needs to plan, keep and find plans."""

    def __init__(self, store: PlanStore, limits: PlanLimits) -> None:
        self.store = store
        self.limits = limits
        self._clusterers: dict[str, Clusterer] = {}
        self._clusterer_lock = asyncio.Lock()
        self._slots: asyncio.Semaphore | None = None

    # -- validation ------------------------------------------------------------------------

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
                f"plan.max_lookahead_tokens must be at most {lim.max_lookahead_tokens}.",
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

    async def check_ids(self, config: PlanConfig, n: int) -> None:
        """Refuse (400) a plan id that is taken, before any response starts."""
        if config.id is None:
            return
        for i in range(n):
            plan_id = choice_plan_id(config.id, i)
            if await self._exists(plan_id):
                raise InvalidRequestError(f"a plan with id '{plan_id}' exists.", param="plan.id")

    async def clusterer(self, mode: str) -> Clusterer:
        """One clusterer per mode for the process (the embedding model loads once)."""
        async with self._clusterer_lock:
            if mode not in self._clusterers:
                self._clusterers[mode] = await asyncio.to_thread(make_clusterer, mode)  # type: ignore[arg-type]
            return self._clusterers[mode]

    async def warm(self, mode: str) -> None:
        """Load the clusterer for ``mode`` and run it once (its first call is the slow one)."""
        clusterer = await self.clusterer(mode)
        await asyncio.to_thread(clusterer.cluster, ["warm", "up"])

    def has_clusterer(self, mode: str) -> bool:
        return mode in self._clusterers

    @property
    def slots(self) -> asyncio.Semaphore:
        """Rollout engine requests in flight across all requests (backpressure)."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.limits.max_rollouts_in_flight)
        return self._slots

    # -- planned choices -------------------------------------------------------------------

    def runner(
        self, engine: Engine, request_id: str, model: str, context: ChatContext | None
    ) -> ChoiceRunner:
        """Run each choice as a planned generation; store its plan when it finishes."""

        async def run(job: ChoiceJob) -> AsyncIterator[ChoiceEvent]:
            assert job.plan is not None
            config = job.plan
            if config.id is not None:
                config = config.model_copy(update={"id": choice_plan_id(config.id, job.index)})
            generation = PlannedGeneration(
                engine,
                job.prompt_ids,
                job.sampling,
                config,
                await self.clusterer(config.clustering),
                request_id=f"{request_id}-{job.index}",
                rollout_slots=self.slots,
            )
            async for event in generation.events():
                if isinstance(event, PlanFinished):
                    yield FinalPlan(await self._finish(event.plan, model, context))
                else:
                    if isinstance(event, SnapshotReady):
                        plan_metrics.snapshot(event.snapshot)
                    elif isinstance(event, ScoreReady):
                        plan_metrics.score(event.score)
                    yield event

        return run

    async def _exists(self, plan_id: str) -> bool:
        try:
            return await self.store.get(plan_id) is not None
        except StoreError:
            return False

    async def _finish(self, plan: Plan, model: str, context: ChatContext | None) -> dict[str, Any]:
        plan_metrics.plan(plan)
        record = PlanRecord(
            plan=plan,
            model=model,
            created=time.time(),
            conversation=conversation_id(context.messages) if context else None,
            turn_key=turn_key(context.messages) if context else None,
        )
        try:
            await self.store.put(record)
        except StoreError as exc:
            plan_metrics.store_error("put")
            payload = plan_payload(plan, record, stored=False, store_error=exc.message)
        else:
            payload = plan_payload(plan, record, stored=True)
        if context is not None and context.previous is not None:
            payload["previous_turn"] = context.previous.model_dump(mode="json")
        return payload

    # -- across turns ----------------------------------------------------------------------

    async def previous_turn(
        self,
        engine: Engine,
        messages: list[dict[str, str]],
        previous_id: str | None,
        clustering: str,
    ) -> NextTurn | None:
        """Find the plan of the previous turn and score it against the new user message."""
        turn = continued_turn(messages)
        if turn is None:
            return None
        key, assistant, user = turn
        try:
            record = await self._previous_record(key, assistant, previous_id)
        except StoreError:
            plan_metrics.store_error("get")
            return None
        if record is None:
            return None
        logprob, tokens = await user_logprob(engine, messages[:-2], assistant, user)
        result = score_next_turn(
            record.plan,
            user,
            assistant,
            await self.clusterer(clustering),
            model_logprob=logprob,
            model_tokens=tokens,
        )
        try:
            await self.store.update_next_turn(record.id, result.model_dump(mode="json"))
        except StoreError:
            plan_metrics.store_error("put")
        return result

    async def _previous_record(
        self, key: str, assistant: str, previous_id: str | None
    ) -> PlanRecord | None:
        if previous_id is not None:
            record = await self.store.get(previous_id)
            if record is None:
                raise_not_found(previous_id, param="plan.previous_id")
            return record
        candidates = await self.store.find_turn(key)
        for record in candidates:  # newest first; with n > 1, the choice the client kept
            if record.plan.text.strip() == assistant.strip():
                return record
        return candidates[0] if candidates else None

    # -- follow a given text --------------------------------------------------------------

    async def analyze(
        self,
        engine: Engine,
        messages: list[dict[str, str]],
        assistant: str,
        user: str | None,
        request: PlanRequest,
        sampling: Sampling,
        model: str,
    ) -> dict[str, Any]:
        """Plan along a given assistant reply (and score against the given user reply)."""
        config = self.check(request, chat=True)
        if "user" in config.horizons and user is None:
            config = config.model_copy(
                update={"horizons": tuple(h for h in config.horizons if h != "user") or ("turn",)}
            )
        await self.check_ids(config, 1)
        tok = engine.tokenizer
        prompt = tok.encode_rendered(tok.render_chat(messages, add_generation_prompt=True))
        given = len(tok.encode(assistant)) + 1 + (len(tok.encode(user)) + 8 if user else 0)
        if len(prompt) + given > engine.max_model_len:
            raise ContextLengthError(
                f"messages, assistant and user need {len(prompt) + given} tokens; the context "
                f"holds {engine.max_model_len}.",
                param="assistant",
            )
        clusterer = await self.clusterer(config.clustering)
        plan: Plan | None = None
        async for event in follow(
            engine,
            prompt,
            assistant,
            config,
            clusterer,
            sampling=sampling,
            user=user,
            rollout_slots=self.slots,
        ):
            if isinstance(event, PlanFinished):
                plan = event.plan
        assert plan is not None
        return await self._finish(plan, model, ChatContext(messages))

    # -- resources -------------------------------------------------------------------------

    async def get(self, plan_id: str) -> dict[str, Any]:
        record = await self.store.get(plan_id)
        if record is None:
            raise_not_found(plan_id)
        return plan_payload(record.plan, record, stored=True)

    async def list(self, conversation: str, limit: int) -> list[dict[str, Any]]:
        records = await self.store.list(conversation, limit)
        return [plan_payload(r.plan, r, stored=True) for r in records]

    async def delete(self, plan_id: str) -> bool:
        if not await self.store.delete(plan_id):
            raise_not_found(plan_id)
        return True


def choice_plan_id(plan_id: str, index: int) -> str:
    """Choice 0 keeps the requested id; choice i > 0 gets ``id-i``."""
    return plan_id if index == 0 else f"{plan_id}-{index}"


def raise_not_found(plan_id: str, param: str | None = None) -> NoReturn:
    raise NotFoundError(f"No plan with id '{plan_id}'.", param=param, code="plan_not_found")


async def user_logprob(
    engine: Engine, before: Sequence[dict[str, str]], assistant: str, user: str
) -> tuple[float | None, int]:
    """The model's log-probability of ``user`` as the reply to ``assistant`` (and its tokens)."""
    tok = engine.tokenizer
    eos = min(tok.eos_token_ids)
    prompt = tok.encode_rendered(tok.render_chat(list(before), add_generation_prompt=True))
    context = [*prompt, *tok.encode(assistant), eos, *tok.user_header_ids()]
    reply = [*tok.encode(user), eos]
    if len(context) + len(reply) > engine.max_model_len:
        return None, len(reply)
    scored = await engine.prompt_logprobs([*context, *reply], len(context))
    return sum(lp.logprob for lp in scored), len(reply)
