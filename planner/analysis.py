"""Planning along a given text (``Planner.analyze``): check it fits, claim its id, follow it,
keep the plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.engine.protocol import Engine, Sampling
from planner.errors import ContextLengthError
from planner.events import PlanFinished
from planner.follow import follow
from planner.generation import PlannedGeneration
from planner.plan import Plan, PlanResult
from planner.planned_request import Messages

if TYPE_CHECKING:
    from planner.config import PlanRequest
    from planner.service import Planner


@dataclass(frozen=True)
class GivenText:
    """What to plan along: the conversation, the assistant reply (and the user's next
    message), with the model and the tenant the plan belongs to."""

    messages: Messages
    assistant: str
    user: str | None
    model: str
    tenant: str | None


async def analyze(
    planner: Planner, engine: Engine, given: GivenText, request: PlanRequest, sampling: Sampling
) -> PlanResult:
    """Plan along ``given`` and keep the plan (see ``Planner.analyze``)."""
    config = planner.limits.check(request, chat=True)
    if "user" in config.horizons and given.user is None:
        config = config.model_copy(
            update={"horizons": tuple(h for h in config.horizons if h != "user") or ("turn",)}
        )
    tok = engine.tokenizer
    prompt = tok.encode_rendered(tok.render_chat(given.messages, add_generation_prompt=True))
    user = given.user
    needed = len(tok.encode(given.assistant)) + 1 + (len(tok.encode(user)) + 8 if user else 0)
    if len(prompt) + needed > engine.max_model_len:
        raise ContextLengthError(
            f"messages, assistant and user need {len(prompt) + needed} tokens; the context "
            f"holds {engine.max_model_len}.",
            param="assistant",
        )
    keeper = planner.keeper
    claimed = await planner.claim(config, 1, given.model, given.tenant)
    plan: Plan | None = None
    generation: PlannedGeneration | None = None
    failed = False
    try:
        generation = await follow(
            engine,
            prompt,
            given.assistant,
            config,
            await planner.clusterer(config.clustering),
            sampling=sampling,
            user=user,
            budget=planner.budget,
            climatology=planner.climatology,
        )
        async for event in generation.events():
            if isinstance(event, PlanFinished):
                plan = event.plan
        assert plan is not None
        return await keeper.keep(plan, given.model, given.messages, None, tenant=given.tenant)
    except Exception:
        failed = True
        raise
    finally:
        if plan is None and generation is not None:
            await keeper.left(
                generation,
                claimed=bool(claimed),
                failed=failed,
                model=given.model,
                messages=given.messages,
                previous=None,
                tenant=given.tenant,
            )
        elif plan is None:
            for plan_id in claimed:
                await keeper.release(plan_id)
