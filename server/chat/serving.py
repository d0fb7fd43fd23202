"""Chat completions: render the conversation, run the choices, shape the response."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi.responses import JSONResponse
from starlette.responses import Response

from planner import Planner, TextDelta
from planner.engine.protocol import Engine
from planner.errors import InvalidRequestError
from server.chat.protocol import (
    AssistantMessage,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    DeltaMessage,
)
from server.choices import (
    ChoiceJob,
    ChoiceRunner,
    collect_choices,
    plain_runner,
    planned_runner,
    stream_choices,
)
from server.config import ServerConfig
from server.logprobs import chat_logprobs
from server.metrics import GenerationTracker
from server.plans.protocol import PlanEvent
from server.plans.streaming import plan_event
from server.protocol import Usage, response_dict
from server.request_context import check_model, check_n, new_id, now
from server.sampling import build_sampling, choice_seed
from server.sse import sse_response

ENDPOINT = "chat"


def _messages(request: ChatCompletionRequest) -> list[dict[str, str]]:
    return [
        {"role": "system" if m.role == "developer" else m.role, "content": m.text()}
        for m in request.messages
    ]


def _jobs(engine: Engine, request: ChatCompletionRequest, config: ServerConfig) -> list[ChoiceJob]:
    check_n(request.n, config.max_n)
    if request.top_logprobs is not None and not request.logprobs:
        raise InvalidRequestError(
            "top_logprobs requires logprobs to be true.", param="top_logprobs"
        )
    tok = engine.tokenizer
    prompt_ids = tok.encode_rendered(
        tok.render_chat(_messages(request), add_generation_prompt=True)
    )
    use_completion = request.max_completion_tokens is not None
    sampling = build_sampling(
        request,
        prompt_tokens=len(prompt_ids),
        max_model_len=engine.max_model_len,
        max_tokens=request.max_completion_tokens if use_completion else request.max_tokens,
        max_tokens_param="max_completion_tokens" if use_completion else "max_tokens",
        prompt_param="messages",
        logprobs=(request.top_logprobs or 0) if request.logprobs else None,
    )
    return [
        ChoiceJob(i, prompt_ids, sampling.with_(seed=choice_seed(request.seed, i)))
        for i in range(request.n)
    ]


async def create_chat_completion(
    engine: Engine,
    request: ChatCompletionRequest,
    config: ServerConfig,
    planner: Planner,
    *,
    tenant: str | None,
) -> Response:
    """Handle one /v1/chat/completions request (its plans belong to ``tenant``)."""
    model = check_model(engine, request.model)
    jobs = _jobs(engine, request, config)
    request_id = new_id("chatcmpl")
    run: ChoiceRunner = plain_runner(engine, request_id)
    if request.plan is not None:
        planned = await planner.begin(
            engine,
            request.plan,
            n=request.n,
            model=model,
            request_id=request_id,
            messages=_messages(request),
            tenant=tenant,
        )
        run = planned_runner(planned)
    if request.stream:
        return sse_response(_stream(request, jobs, run, request_id, model))

    results = await collect_choices(jobs, run, GenerationTracker(ENDPOINT, len(jobs[0].prompt_ids)))
    top_n = request.top_logprobs or 0
    choices = [
        ChatChoice(
            index=r.index,
            message=AssistantMessage(content=r.text),
            logprobs=chat_logprobs(r.logprobs, top_n) if request.logprobs else None,
            finish_reason=r.finish_reason,
            plan=r.plan,
        )
        for r in results
    ]
    completion = sum(len(r.token_ids) for r in results)
    prompt = len(jobs[0].prompt_ids)
    body = ChatCompletionResponse(
        id=request_id,
        created=now(),
        model=model,
        choices=choices,
        usage=Usage.of(prompt, completion),
    )
    return JSONResponse(response_dict(body))


async def _stream(
    request: ChatCompletionRequest,
    jobs: list[ChoiceJob],
    run: ChoiceRunner,
    request_id: str,
    model: str,
) -> AsyncIterator[dict[str, object]]:
    created = now()
    include_usage = bool(request.stream_options and request.stream_options.include_usage)
    top_n = request.top_logprobs or 0
    prompt = len(jobs[0].prompt_ids)
    completion = 0

    def chunk(
        choices: list[ChatChunkChoice],
        usage: Usage | None = None,
        plan: PlanEvent | None = None,
    ) -> dict[str, object]:
        body = ChatCompletionChunk(
            id=request_id, created=created, model=model, choices=choices, usage=usage, plan=plan
        )
        return response_dict(body)

    for job in jobs:
        first = ChatChunkChoice(index=job.index, delta=DeltaMessage(role="assistant", content=""))
        yield chunk([first])
    tracker = GenerationTracker(ENDPOINT, prompt)
    try:
        async for index, event in stream_choices(jobs, run):
            if not isinstance(event, TextDelta):
                plan = plan_event(index, event)
                if plan is not None:
                    yield chunk([], plan=plan)
                continue
            delta = event.delta
            completion += len(delta.token_ids)
            tracker.tokens(len(delta.token_ids))
            logprobs = None
            if request.logprobs and delta.logprobs:
                logprobs = chat_logprobs(delta.logprobs, top_n)
            if delta.text or logprobs is not None:
                content = DeltaMessage(content=delta.text)
                yield chunk([ChatChunkChoice(index=index, delta=content, logprobs=logprobs)])
            if delta.finish_reason is not None:
                end = ChatChunkChoice(
                    index=index, delta=DeltaMessage(), finish_reason=delta.finish_reason
                )
                yield chunk([end])
    finally:
        tracker.close()
    if include_usage:
        usage = Usage.of(prompt, completion)
        yield chunk([], usage)
