"""Fan a request out into one engine stream per choice and merge them back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from planner.engine.protocol import Delta, Engine, Sampling, TokenLogprob


@dataclass(frozen=True)
class ChoiceJob:
    """One choice: which prompt it continues and how it samples."""

    index: int
    prompt_ids: list[int]
    sampling: Sampling


@dataclass
class ChoiceResult:
    """Everything one choice produced, accumulated from its deltas."""

    index: int
    prompt_tokens: int
    text: str = ""
    token_ids: list[int] = field(default_factory=list)
    logprobs: list[TokenLogprob] = field(default_factory=list)
    finish_reason: str | None = None

    def add(self, delta: Delta) -> None:
        self.text += delta.text
        self.token_ids += delta.token_ids
        if delta.logprobs:
            self.logprobs += delta.logprobs
        if delta.finish_reason is not None:
            self.finish_reason = delta.finish_reason


_DONE = object()


async def stream_choices(
    engine: Engine, request_id: str, jobs: Sequence[ChoiceJob]
) -> AsyncIterator[tuple[int, Delta]]:
    """Run all choices concurrently in the engine; yield ``(index, delta)`` as they arrive.

    Closing this iterator (e.g. the client went away) cancels every choice, which
    aborts its engine request.
    """
    queue: asyncio.Queue[tuple[int, Delta | BaseException | object]] = asyncio.Queue()

    async def run(job: ChoiceJob) -> None:
        try:
            async for delta in engine.generate(
                f"{request_id}-{job.index}", job.prompt_ids, job.sampling
            ):
                queue.put_nowait((job.index, delta))
        except Exception as exc:
            queue.put_nowait((job.index, exc))
        finally:
            queue.put_nowait((job.index, _DONE))

    tasks = [asyncio.create_task(run(job)) for job in jobs]
    try:
        remaining = len(tasks)
        while remaining:
            index, item = await queue.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                assert isinstance(item, Delta)
                yield index, item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def collect_choices(
    engine: Engine, request_id: str, jobs: Sequence[ChoiceJob]
) -> list[ChoiceResult]:
    """Run all choices to the end and return their results in index order."""
    results = {job.index: ChoiceResult(job.index, len(job.prompt_ids)) for job in jobs}
    async for index, delta in stream_choices(engine, request_id, jobs):
        results[index].add(delta)
    return [results[job.index] for job in jobs]
