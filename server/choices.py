"""Fan a request out into one event stream per choice and merge them back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from planner import ChoiceEvent, PlannedRequest, PlanResult, PlanStored, TextDelta
from planner.engine.protocol import Engine, Sampling, TokenLogprob
from server import plan_metrics
from server.metrics import GenerationTracker


@dataclass(frozen=True)
class ChoiceJob:
    """One choice: which prompt it continues and how it samples."""

    index: int
    prompt_ids: list[int]
    sampling: Sampling


ChoiceRunner = Callable[[ChoiceJob], AsyncIterator[ChoiceEvent]]


@dataclass
class ChoiceResult:
    """Everything one choice produced, accumulated from its events."""

    index: int
    prompt_tokens: int
    text: str = ""
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    finish_reason: str | None = None
    plan: PlanResult | None = None

    def add(self, event: ChoiceEvent) -> None:
        if isinstance(event, PlanStored):
            self.plan = event.result
        elif isinstance(event, TextDelta):
            delta = event.delta
            self.text += delta.text
            self.token_ids += delta.token_ids
            if delta.logprobs:
                self.logprobs += delta.logprobs
            if delta.finish_reason is not None:
                self.finish_reason = delta.finish_reason


def plain_runner(engine: Engine, request_id: str) -> ChoiceRunner:
    """Choices without a plan: the engine's deltas, nothing else."""

    async def run(job: ChoiceJob) -> AsyncIterator[ChoiceEvent]:
        request = f"{request_id}-{job.index}"
        async for delta in engine.generate(request, job.prompt_ids, job.sampling):
            yield TextDelta(delta)

    return run


def planned_runner(planned: PlannedRequest) -> ChoiceRunner:
    """Choices with a plan: the planner's events, counted in the plan metrics on the way."""

    async def run(job: ChoiceJob) -> AsyncIterator[ChoiceEvent]:
        async for event in planned.run(job.index, job.prompt_ids, job.sampling):
            plan_metrics.observe(event, planned.config.pace)
            yield event

    return run


_DONE = object()


async def stream_choices(
    jobs: Sequence[ChoiceJob], run: ChoiceRunner
) -> AsyncIterator[tuple[int, ChoiceEvent]]:
    """Run all choices concurrently; yield ``(index, event)`` as they arrive.

    Closing this iterator (e.g. the client went away) cancels every choice, which
    aborts its engine requests and rollouts.
    """
    queue: asyncio.Queue[tuple[int, object]] = asyncio.Queue()

    async def pump(job: ChoiceJob) -> None:
        try:
            async for event in run(job):
                queue.put_nowait((job.index, event))
        except Exception as exc:
            queue.put_nowait((job.index, exc))
        finally:
            queue.put_nowait((job.index, _DONE))

    tasks = [asyncio.create_task(pump(job)) for job in jobs]
    try:
        remaining = len(tasks)
        while remaining:
            index, item = await queue.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield index, item  # type: ignore[misc]
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def collect_choices(
    jobs: Sequence[ChoiceJob], run: ChoiceRunner, tracker: GenerationTracker
) -> list[ChoiceResult]:
    """Run all choices to the end and return their results in index order."""
    results = {job.index: ChoiceResult(job.index, len(job.prompt_ids)) for job in jobs}
    try:
        async for index, event in stream_choices(jobs, run):
            if isinstance(event, TextDelta):
                tracker.tokens(len(event.delta.token_ids))
            results[index].add(event)
    finally:
        tracker.close()
    return [results[job.index] for job in jobs]
