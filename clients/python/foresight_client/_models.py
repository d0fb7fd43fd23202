"""Typed responses of the completion, model and health routes, and the `plan` request option."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from foresight_client._base_model import ForesightModel
from foresight_client._plan import Plan


class PlanOptions(BaseModel):
    """The ``plan`` object of a request; fields left None take the server's defaults.

    Values are not checked here: the server is the one authority on what is valid (its
    limits are configurable) and answers a 400 naming the field, e.g. ``plan.rollouts``.
    Unknown fields are sent as given.
    """

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    horizons: list[str] | None = None
    """Any of sentence, paragraph, turn, user (chat only); server default: the first three."""
    rollouts: int | None = None
    """Rollouts summarised per refresh (server default 8)."""
    refresh: str | int | None = None
    """``sentence`` (each sentence start), ``token``, or every N tokens."""
    refresh_every: dict[str, int] | None = None
    """Plan a horizon only at every n-th refresh point, e.g. ``{"turn": 4}`` (server
    default: every point); snapshots in between leave it out."""
    rollouts_in_flight: int | None = None
    """Rollouts decoding beside the text at once (server default: half of ``rollouts``)."""
    max_lookahead_tokens: int | None = None
    """How far a rollout looks (server default 64)."""
    pace: str | None = None
    """``text`` (server default): text at once, snapshots when ready (often after it);
    ``plan``: text waits, at most ``max_hold_ms``, until the snapshot for its position is
    sent."""
    max_hold_ms: int | None = None
    """With pace ``plan``, the longest a text token waits for a snapshot (server default
    2500); a snapshot that misses it is marked ``late``."""
    refresh_policy: str | None = None
    """Rollouts per refresh: ``fixed`` (K) or ``adaptive`` (K/2 where the next token is
    nearly certain, 2 K where it branches)."""
    sampling: str | None = None
    """How a refresh draws its fresh rollouts: ``plain`` or ``stratified`` (over the
    likeliest next tokens, weighted: the same expected plan, less variance)."""
    clustering: str | None = None
    """Group candidate endings by meaning (``embedding``) or exact ``text``."""
    include_rollouts: bool | None = None
    """List each snapshot's rollouts."""
    fork_threshold: float | None = None
    """Divergence in bits above which a refresh is a fork (server default 0.5)."""
    id: str | None = None
    """Id for the plan (with n > 1: ``id-1``, ``id-2``, ...)."""
    previous_id: str | None = None
    """The previous turn's plan, when the conversation hash should not be used."""

    def to_body(self) -> dict[str, Any]:
        """The JSON object to send (None fields left out)."""
        return self.model_dump(mode="json", exclude_none=True)


class Usage(ForesightModel):
    """Token counts of a request."""

    prompt_tokens: int = 0
    """Tokens of the prompt(s)."""
    completion_tokens: int = 0
    """Tokens generated over all choices."""
    total_tokens: int = 0
    """The two together."""


class ChatMessage(ForesightModel):
    """The assistant message of a chat choice."""

    role: str = "assistant"
    """Always ``assistant``."""
    content: str | None = None
    """The reply text."""


class ChatChoice(ForesightModel):
    """One choice of a chat completion."""

    index: int = 0
    """Choice index (0 .. n-1)."""
    message: ChatMessage = Field(default_factory=ChatMessage)
    """The reply."""
    finish_reason: str | None = None
    """``stop`` or ``length``."""
    logprobs: Any = None
    """Token log-probabilities in the OpenAI chat shape, if asked for."""
    plan: Plan | None = None
    """The plan made along this choice, if one was asked for."""


class ChatCompletion(ForesightModel):
    """A chat completion (``POST /v1/chat/completions``)."""

    id: str = ""
    """Request id."""
    object: str = "chat.completion"
    """Always ``chat.completion``."""
    created: int = 0
    """Unix time."""
    model: str = ""
    """The model that answered."""
    choices: list[ChatChoice] = Field(default_factory=list)
    """One per ``n``."""
    usage: Usage | None = None
    """Token counts."""

    @property
    def text(self) -> str:
        """The first choice's reply text."""
        return (self.choices[0].message.content or "") if self.choices else ""

    @property
    def plan(self) -> Plan | None:
        """The first choice's plan."""
        return self.choices[0].plan if self.choices else None


class CompletionChoice(ForesightModel):
    """One choice of a text completion."""

    index: int = 0
    """Choice index (prompt index * n + choice)."""
    text: str = ""
    """The completion text."""
    finish_reason: str | None = None
    """``stop`` or ``length``."""
    logprobs: Any = None
    """Token log-probabilities in the OpenAI completions shape, if asked for."""
    plan: Plan | None = None
    """The plan made along this choice, if one was asked for."""


class Completion(ForesightModel):
    """A text completion (``POST /v1/completions``)."""

    id: str = ""
    """Request id."""
    object: str = "text_completion"
    """Always ``text_completion``."""
    created: int = 0
    """Unix time."""
    model: str = ""
    """The model that answered."""
    choices: list[CompletionChoice] = Field(default_factory=list)
    """One per prompt and ``n``."""
    usage: Usage | None = None
    """Token counts."""

    @property
    def text(self) -> str:
        """The first choice's text."""
        return self.choices[0].text if self.choices else ""

    @property
    def plan(self) -> Plan | None:
        """The first choice's plan."""
        return self.choices[0].plan if self.choices else None


class ModelCard(ForesightModel):
    """A served model (``GET /v1/models``)."""

    id: str
    """The name requests use as ``model``."""
    object: str = "model"
    """Always ``model``."""
    created: int = 0
    """Unix time the server started."""
    owned_by: str = "foresight"
    """Always ``foresight``."""
    root: str | None = None
    """Where the model was loaded from."""
    max_model_len: int | None = None
    """Context length in tokens."""


class Health(ForesightModel):
    """Liveness (``GET /health``)."""

    status: str = "ok"
    """``ok`` when the process answers."""


class PlanDeleted(ForesightModel):
    """The answer to ``plans.delete(id)``."""

    id: str
    """The deleted plan's id."""
    object: str = "plan.deleted"
    """Always ``plan.deleted``."""
    deleted: bool = True
    """True (a missing plan raises NotFoundError instead)."""
