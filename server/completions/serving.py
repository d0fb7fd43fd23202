"""Text completions: tokenize each prompt, run n choices per prompt, shape the response."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import JSONResponse
from starlette.responses import Response

from planner import Planner, TextDelta
from planner.engine.protocol import Engine
from planner.errors import InvalidRequestError
from server.choices import (
    ChoiceJob,
    ChoiceRunner,
    collect_choices,
    plain_runner,
    planned_runner,
    stream_choices,
)
from server.completions.protocol import (
    CompletionChoice,
    CompletionRequest,
    CompletionResponse,
    PromptInput,
)
from server.config import ServerConfig
from server.logprobs import completion_logprobs
from server.metrics import GenerationTracker
from server.plans.streaming import plan_event
from server.protocol import Usage, response_dict
from server.request_context import check_model, check_n, new_id, now
from server.sampling import build_sampling, choice_seed
from server.sse import sse_response

ENDPOINT = "completions"
MAX_PROMPTS = 64


def _prompts(engine: Engine, prompt: PromptInput) -> list[list[int]]:
    if isinstance(prompt, str):
        prompts: list[str | list[int]] = [prompt]
    elif prompt and all(isinstance(p, int) for p in prompt):
        prompts = [list(prompt)]  # type: ignore[arg-type]
    else:
        prompts = list(prompt)  # type: ignore[arg-type]
    if not prompts or len(prompts) > MAX_PROMPTS:
        raise InvalidRequestError(
            f"prompt must hold between 1 and {MAX_PROMPTS} prompts.", param="prompt"
        )
    vocab = engine.tokenizer.vocab_size
    out: list[list[int]] = []
    for p in prompts:
        ids = engine.tokenizer.encode(p) if isinstance(p, str) else list(p)
        if not ids:
            raise InvalidRequestError("prompt must not be empty.", param="prompt")
        if any(not 0 <= t < vocab for t in ids):
            raise InvalidRequestError(f"prompt token ids must be in [0, {vocab}).", param="prompt")
        out.append(ids)
    return out


def _jobs(engine: Engine, request: CompletionRequest, config: ServerConfig) -> list[ChoiceJob]:
    check_n(request.n, config.max_n)
    if request.echo:
        raise InvalidRequestError("echo is not supported by this server.", param="echo")
    if request.suffix:
        raise InvalidRequestError("suffix is not supported by this server.", param="suffix")
    jobs: list[ChoiceJob] = []
    for p_index, prompt_ids in enumerate(_prompts(engine, request.prompt)):
        sampling = build_sampling(
            request,
            prompt_tokens=len(prompt_ids),
            max_model_len=engine.max_model_len,
            max_tokens=request.max_tokens,
            max_tokens_param="max_tokens",
            prompt_param="prompt",
            logprobs=request.logprobs,
        )
        for i in range(request.n):
            seeded = sampling.with_(seed=choice_seed(request.seed, i))
            jobs.append(ChoiceJob(p_index * request.n + i, prompt_ids, seeded))
    return jobs


def _prompt_tokens(jobs: list[ChoiceJob], n: int) -> int:
    # Each prompt counts once however many choices continue it.
    return sum(len(job.prompt_ids) for job in jobs[::n])


async def create_completion(
    engine: Engine,
    request: CompletionRequest,
    config: ServerConfig,
    planner: Planner,
    *,
    tenant: str | None,
) -> Response:
    """Handle one /v1/completions request (its plans belong to ``tenant``)."""
    model = check_model(engine, request.model)
    jobs = _jobs(engine, request, config)
    request_id = new_id("cmpl")
    prompt = _prompt_tokens(jobs, request.n)
    run: ChoiceRunner = plain_runner(engine, request_id)
    if request.plan is not None:
        planned = await planner.begin(
            engine, request.plan, n=len(jobs), model=model, request_id=request_id, tenant=tenant
        )
        run = planned_runner(planned)
    if request.stream:
        return sse_response(_stream(request, jobs, run, request_id, model, prompt))

    results = await collect_choices(jobs, run, GenerationTracker(ENDPOINT, prompt))
    top_n = request.logprobs or 0
    choices = [
        CompletionChoice(
            index=r.index,
            text=r.text,
            logprobs=completion_logprobs(r.logprobs, top_n)
            if request.logprobs is not None
            else None,
            finish_reason=r.finish_reason,
            plan=r.plan,
        )
        for r in results
    ]
    completion = sum(len(r.token_ids) for r in results)
    body = CompletionResponse(
        id=request_id,
        created=now(),
        model=model,
        choices=choices,
        usage=Usage.of(prompt, completion),
    )
    return JSONResponse(response_dict(body))


async def _stream(
    request: CompletionRequest,
    jobs: list[ChoiceJob],
    run: ChoiceRunner,
    request_id: str,
    model: str,
    prompt: int,
) -> AsyncIterator[dict[str, object]]:
    created = now()
    include_usage = bool(request.stream_options and request.stream_options.include_usage)
    top_n = request.logprobs or 0
    offsets = {job.index: 0 for job in jobs}
    completion = 0
    tracker = GenerationTracker(ENDPOINT, prompt)
    try:
        async for index, event in stream_choices(jobs, run):
            if not isinstance(event, TextDelta):
                plan = plan_event(index, event)
                if plan is not None:
                    yield response_dict(
                        CompletionResponse(
                            id=request_id, created=created, model=model, choices=[], plan=plan
                        )
                    )
                continue
            delta = event.delta
            completion += len(delta.token_ids)
            tracker.tokens(len(delta.token_ids))
            logprobs = None
            if request.logprobs is not None and delta.logprobs:
                logprobs = completion_logprobs(delta.logprobs, top_n, offsets[index])
            offsets[index] += len(delta.text)
            if delta.text or logprobs is not None or delta.finish_reason is not None:
                choice = CompletionChoice(
                    index=index,
                    text=delta.text,
                    logprobs=logprobs,
                    finish_reason=delta.finish_reason,
                )
                yield response_dict(
                    CompletionResponse(
                        id=request_id, created=created, model=model, choices=[choice]
                    )
                )
    finally:
        tracker.close()
    if include_usage:
        usage = Usage.of(prompt, completion)
        yield response_dict(
            CompletionResponse(id=request_id, created=created, model=model, choices=[], usage=usage)
        )
