"""One planned request after its checks: run each choice, then keep its plan."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from planner.config import PlanConfig
from planner.conversation import conversation_id, turn_key
from planner.engine.protocol import Engine, Sampling
from planner.errors import StoreError
from planner.events import ChoiceEvent, PlanFinished, PlanStored
from planner.generation import PlannedGeneration, generate
from planner.plan import NextTurn, Plan, PlanResult
from planner.store import PlanRecord, PlanStore

if TYPE_CHECKING:
    from planner.service import Planner

Messages = list[dict[str, str]]


def choice_plan_id(plan_id: str, index: int) -> str:
    """Choice 0 keeps the requested id; choice i > 0 gets ``id-i``."""
    return plan_id if index == 0 else f"{plan_id}-{index}"


def result_of(record: PlanRecord, *, stored: bool, store_error: str | None = None) -> PlanResult:
    """The plan as the API returns it, from what the store keeps."""
    next_turn = NextTurn.model_validate(record.next_turn) if record.next_turn else None
    return PlanResult(
        **record.plan.model_dump(),
        stored=stored,
        store_error=store_error,
        conversation=record.conversation,
        model=record.model,
        created=record.created,
        next_turn=next_turn,
    )


@dataclass
class Keeper:
    """Stores finished plans; a store failure never loses the text (``stored: false``).

    A plan whose request is cancelled is normally dropped and its claimed id freed (the
    client left, or its deadline passed). Once ``keep_cancelled`` is set (the server aborts
    its last requests at shutdown) such a plan is stored as far as it got, marked
    ``cancelled``, so the work done before the abort can still be read. Those writes run
    as tasks of their own (see ``left``); ``settled`` waits for them before the store closes.
    """

    store: PlanStore
    on_store_error: Callable[[str], None]
    keep_cancelled: bool = False
    _settling: set[asyncio.Task[None]] = field(default_factory=set, repr=False)

    async def keep(
        self,
        plan: Plan,
        model: str,
        messages: Messages | None,
        previous: NextTurn | None,
        *,
        tenant: str | None,
    ) -> PlanResult:
        record = PlanRecord(
            plan=plan,
            model=model,
            owner=tenant,
            created=time.time(),
            conversation=conversation_id(messages, tenant=tenant) if messages else None,
            turn_key=turn_key(messages, tenant=tenant) if messages else None,
        )
        try:
            await self.store.put(record)
        except StoreError as exc:
            self.on_store_error("put")
            result = result_of(record, stored=False, store_error=exc.message)
        else:
            result = result_of(record, stored=True)
        result.previous_turn = previous
        return result

    async def release(self, plan_id: str) -> None:
        """Free an id claimed for a plan that never finished (the request failed or left)."""
        with contextlib.suppress(StoreError):
            record = await self.store.get(plan_id)
            if record is not None and not (record.plan.finished or record.plan.cancelled):
                await self.store.delete(plan_id)

    async def left(
        self,
        generation: PlannedGeneration,
        *,
        claimed: bool,
        failed: bool,
        model: str,
        messages: Messages | None,
        previous: NextTurn | None,
        tenant: str | None,
    ) -> None:
        """A choice ended without its plan: keep it as cancelled (at shutdown, if it was
        cancelled rather than failed), else free its claimed id. Shielded: a stream's cancel
        scope cancels every await of a clean-up again, which would skip it."""

        async def settle() -> None:
            if self.keep_cancelled and not failed:
                plan = generation.cancelled_plan()
                await self.keep(plan, model, messages, previous, tenant=tenant)
            elif claimed:
                await self.release(generation.plan.id)

        task = asyncio.ensure_future(settle())
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        await asyncio.shield(task)

    async def settled(self, timeout: float) -> int:
        """Wait at most ``timeout`` seconds for the plans still being kept or released after
        their request ended; returns how many are still unfinished."""
        if self._settling:
            await asyncio.wait(set(self._settling), timeout=timeout)
        return len(self._settling)


class PlannedRequest:
    """What an endpoint runs for a planned request: one ``run`` per choice."""

    def __init__(
        self,
        planner: Planner,
        engine: Engine,
        config: PlanConfig,
        *,
        model: str,
        request_id: str,
        messages: Messages | None,
        previous: NextTurn | None,
        claimed: Sequence[str],
        tenant: str | None,
    ) -> None:
        self._planner = planner
        self._engine = engine
        self.config = config
        self._model = model
        self._request_id = request_id
        self._messages = messages
        self.previous = previous
        self._claimed = set(claimed)
        self._tenant = tenant

    async def run(
        self, index: int, prompt_ids: Sequence[int], sampling: Sampling
    ) -> AsyncIterator[ChoiceEvent]:
        """Choice ``index``: text, snapshots, scores and forks as they come, then the stored
        plan (``PlanStored``)."""
        config = self.config
        if config.id is not None:
            config = config.model_copy(update={"id": choice_plan_id(config.id, index)})
        generation = generate(
            self._engine,
            prompt_ids,
            sampling,
            config,
            await self._planner.clusterer(config.clustering),
            request_id=f"{self._request_id}-{index}",
            budget=self._planner.budget,
            climatology=self._planner.climatology,
        )
        keeper, finished, failed = self._planner.keeper, False, False
        try:
            async with contextlib.aclosing(generation.events()) as events:
                async for event in events:
                    if isinstance(event, PlanFinished):
                        kept = await keeper.keep(
                            event.plan,
                            self._model,
                            self._messages,
                            self.previous,
                            tenant=self._tenant,
                        )
                        finished = True
                        yield PlanStored(kept)
                    else:
                        yield event
        except Exception:
            failed = True
            raise
        finally:
            if not finished:
                await keeper.left(
                    generation,
                    claimed=generation.plan.id in self._claimed,
                    failed=failed,
                    model=self._model,
                    messages=self._messages,
                    previous=self.previous,
                    tenant=self._tenant,
                )
