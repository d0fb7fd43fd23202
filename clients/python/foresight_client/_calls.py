"""What each API method sends and how its answer is read, shared by Client and AsyncClient.

A method builds a ``Call`` here; the two clients only differ in how they send it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from pydantic import BaseModel

from foresight_client._constants import CONVERSATION_HEADER
from foresight_client._models import (
    ChatCompletion,
    Completion,
    Health,
    ModelCard,
    PlanDeleted,
    PlanOptions,
)
from foresight_client._plan import Plan, parse_plan
from foresight_client._types import MessageParam, PlanParam

T = TypeVar("T")


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and the parser of its JSON answer."""

    method: str
    path: str
    parse: Callable[[Any], T]
    json: dict[str, Any] | None = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def plan_body(plan: PlanParam) -> dict[str, Any] | None:
    """The ``plan`` request object (``True`` means the server's defaults)."""
    if plan is None or plan is False:
        return None
    if plan is True:
        return {}
    if isinstance(plan, PlanOptions):
        return plan.to_body()
    return dict(plan)


def _messages(messages: Sequence[MessageParam | BaseModel]) -> list[dict[str, Any]]:
    # Response messages (ChatMessage) can be sent back as they are.
    return [
        m.model_dump(exclude_none=True) if isinstance(m, BaseModel) else dict(m) for m in messages
    ]


def conversation_key(messages: Sequence[Mapping[str, Any]]) -> str:
    """The same for every turn of a conversation: a hash of it up to its first user message.

    Equal to the server's ``plan.conversation`` for text messages (tests pin the two).
    """
    first_user = next((i for i, m in enumerate(messages) if m.get("role") == "user"), None)
    head = messages if first_user is None else messages[: first_user + 1]
    canonical = json.dumps(
        [[m.get("role"), m.get("content")] for m in head],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return "conv-" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _body(model: str | None, plan: PlanParam, params: Mapping[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in params.items() if k != "extra_body" and v is not None}
    if isinstance(body.get("stop"), Sequence) and not isinstance(body["stop"], str):
        body["stop"] = list(body["stop"])
    if model is not None:
        body["model"] = model
    planned = plan_body(plan)
    if planned is not None:
        body["plan"] = planned
    body.update(params.get("extra_body") or {})
    return body


def chat(
    messages: Sequence[MessageParam | BaseModel],
    model: str | None,
    plan: PlanParam,
    params: Mapping[str, Any],
    *,
    stream: bool = False,
) -> Call[ChatCompletion]:
    sent = _messages(messages)
    body = {"messages": sent, **_body(model, plan, params)}
    if stream:
        # Usage costs one chunk at the end; the stream reports it as an event.
        body.update(stream=True, stream_options={"include_usage": True})
    headers = {CONVERSATION_HEADER: conversation_key(sent)}
    return Call(
        "POST", "/v1/chat/completions", ChatCompletion.model_validate, json=body, headers=headers
    )


def complete(
    prompt: str | Sequence[str] | Sequence[int],
    model: str | None,
    plan: PlanParam,
    params: Mapping[str, Any],
) -> Call[Completion]:
    body = {"prompt": prompt if isinstance(prompt, str) else list(prompt)}
    body.update(_body(model, plan, params))
    return Call("POST", "/v1/completions", Completion.model_validate, json=body)


def get_plan(plan_id: str) -> Call[Plan]:
    return Call("GET", f"/v1/plans/{_segment(plan_id)}", parse_plan)


def list_plans(conversation: str, limit: int | None) -> Call[list[Plan]]:
    params: dict[str, Any] = {"conversation": conversation}
    if limit is not None:
        params["limit"] = limit
    return Call("GET", "/v1/plans", _plan_list, params=params)


def delete_plan(plan_id: str) -> Call[PlanDeleted]:
    return Call("DELETE", f"/v1/plans/{_segment(plan_id)}", PlanDeleted.model_validate)


def analyze(
    messages: Sequence[MessageParam | BaseModel],
    assistant: str,
    user: str | None,
    model: str | None,
    plan: PlanParam,
    params: Mapping[str, Any],
) -> Call[Plan]:
    sent = _messages(messages)
    body: dict[str, Any] = {"messages": sent, "assistant": assistant}
    if user is not None:
        body["user"] = user
    body.update(_body(model, plan, params))
    headers = {CONVERSATION_HEADER: conversation_key(sent)}
    return Call("POST", "/v1/plans/analyze", _analyzed, json=body, headers=headers)


def models() -> Call[list[ModelCard]]:
    return Call("GET", "/v1/models", _model_list)


def health() -> Call[Health]:
    return Call("GET", "/health", Health.model_validate)


def _segment(plan_id: str) -> str:
    # Quoted, so that no id can change the path (a "/" in it simply finds no plan).
    if not plan_id:
        raise ValueError("a plan id must not be empty")
    return quote(plan_id, safe="")


def _plan_list(data: Any) -> list[Plan]:
    return [parse_plan(p) for p in data["data"]]


def _analyzed(data: Any) -> Plan:
    return parse_plan(data["plan"])


def _model_list(data: Any) -> list[ModelCard]:
    return [ModelCard.model_validate(m) for m in data["data"]]
