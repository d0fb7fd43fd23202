"""Plan configuration: one validated, typed object per planned request."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationInfo, field_validator

from planner.errors import InvalidRequestError

Horizon = Literal["sentence", "paragraph", "turn", "user"]
HORIZON_ORDER: tuple[Horizon, ...] = ("sentence", "paragraph", "turn", "user")
DEFAULT_HORIZONS: tuple[Horizon, ...] = ("sentence", "paragraph", "turn")
# Long horizons cost long rollouts (a turn's run to the lookahead, ~3x a sentence's) and
# move less from one sentence to the next: by default they are planned less often.
DEFAULT_REFRESH_EVERY: dict[Horizon, int] = {"paragraph": 2, "turn": 4, "user": 4}
# Text first by default: a snapshot takes longer than a reader would wait per sentence
# (refresh to snapshot p50 1.8 s, p90 2.3 s for sentences on a quiet machine, 5-25 s under
# load), so plan-first paces the text to the plan; measured in docs/benchmarks.md
# ("Pacing"). The hold bound covers a quiet machine's sentence p90, for who asks for it.
DEFAULT_PACE: Literal["text", "plan"] = "text"
DEFAULT_MAX_HOLD_MS = 2500


def assistant_horizon(horizon: Horizon) -> Horizon:
    """The end of the assistant's own text that ``horizon`` waits for (the user's reply
    follows the end of the turn)."""
    return "turn" if horizon == "user" else horizon


class PlanConfig(BaseModel):
    """What to plan: horizons, rollouts per refresh, when to refresh, how far to look."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    horizons: tuple[Horizon, ...] = Field(
        DEFAULT_HORIZONS,
        min_length=1,
        description="which endings to plan: sentence, paragraph, turn, user (chat only)",
    )
    rollouts: int = Field(8, ge=1, le=256, description="K: rollouts summarised per refresh")
    refresh: Literal["sentence", "token"] | int = Field(
        "sentence", description="at each sentence start, every token, or every N tokens"
    )
    refresh_every: dict[Horizon, PositiveInt] | None = Field(
        None,
        validate_default=True,
        description="plan a horizon only at every n-th refresh point (always at the first, "
        "and paragraph also at the first point of each new paragraph); horizons not named "
        "are planned at every point. Default: paragraph every 2nd, turn and user every 4th "
        "point; {} plans every horizon at every point",
    )
    max_lookahead_tokens: int = Field(
        64,
        ge=1,
        le=4096,
        description="how far a rollout looks; an ending beyond it is reported as not reached",
    )
    rollouts_in_flight: int | None = Field(
        None,
        ge=1,
        le=256,
        description="rollouts of this plan decoding at once while the main text streams "
        "(default: half of K, rounded up); each one in the batch slows every main token",
    )
    pace: Literal["text", "plan"] = Field(
        DEFAULT_PACE,
        description="text: send each text token as soon as it is sampled, snapshots when "
        "ready; plan: hold text back (at most max_hold_ms per token) so that each snapshot "
        "reaches the client before the text passes its position",
    )
    max_hold_ms: int = Field(
        DEFAULT_MAX_HOLD_MS,
        ge=0,
        le=60_000,
        description="with pace 'plan', the longest a text token waits for a snapshot; a "
        "snapshot that misses it is marked late",
    )
    sampling: Literal["plain", "stratified"] = Field(
        "plain",
        description="how a refresh draws its fresh rollouts: plain (independent), or "
        "stratified (spread over the likeliest next tokens in proportion to their "
        "probability, the rest drawn with those banned, each rollout weighted by its "
        "stratum: the same expected plan with less variance; plain where top_p, top_k or "
        "penalties are set)",
    )
    refresh_policy: Literal["fixed", "adaptive"] = Field(
        "fixed",
        description="rollouts per refresh: K at every refresh (fixed), or adaptive: half of K "
        "where the next token is nearly certain (p >= 0.9), 2 K where it branches (entropy "
        ">= 1.5 nats), K elsewhere; each snapshot's refresh_reason says which",
    )
    clustering: Literal["embedding", "text"] = Field(
        "embedding", description="group candidate endings by meaning (embedding) or exact text"
    )
    include_rollouts: bool = Field(False, description="list each snapshot's rollouts")
    fork_threshold: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="Jensen-Shannon divergence (bits) above which a refresh is a fork",
    )
    id: str | None = Field(
        None,
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="id of the plan (with n > 1: id-1, id-2, ...); generated if absent",
    )

    @field_validator("horizons", mode="after")
    @classmethod
    def _unique_in_order(cls, value: tuple[Horizon, ...]) -> tuple[Horizon, ...]:
        if len(set(value)) != len(value):
            raise ValueError("horizons must not repeat")
        return tuple(h for h in HORIZON_ORDER if h in value)

    @field_validator("refresh_every", mode="after")
    @classmethod
    def _cadence_of_planned_horizons(
        cls, value: dict[Horizon, int] | None, info: ValidationInfo
    ) -> dict[Horizon, int]:
        planned = info.data.get("horizons", ())
        if value is None:
            value = {h: n for h, n in DEFAULT_REFRESH_EVERY.items() if h in planned}
        for h in value:
            if h not in planned:
                raise ValueError(f"refresh_every names '{h}', which is not among the horizons")
        return {h: value[h] for h in HORIZON_ORDER if h in value}  # one order: one hash

    def __hash__(self) -> int:  # frozen, but refresh_every is a dict: hash its items
        return hash(
            tuple(
                (k, tuple(v.items()) if isinstance(v, dict) else v)
                for k, v in self.__dict__.items()
            )
        )

    @field_validator("refresh", mode="after")
    @classmethod
    def _positive_interval(cls, value: str | int) -> str | int:
        if isinstance(value, int) and (isinstance(value, bool) or value < 1):
            raise ValueError("an integer refresh must be >= 1 (tokens between refreshes)")
        return value

    @property
    def in_flight(self) -> int:
        """Rollouts of this plan that may decode at once while the main text streams.

        Half of K by default: on a CPU engine a decode step grows with the batch (18 ms at
        1, 21 ms at 4, 26 ms at 8 here), and every rollout admitted also costs the main
        text its prefill. K/2 kept the mean ITL at 1.36x plain where K gave 1.65x, for a
        plan done 5-7 % later (docs/benchmarks.md).
        """
        return self.rollouts_in_flight or -(-self.rollouts // 2)

    def every(self, horizon: Horizon) -> int:
        """Refresh points between two refreshes of ``horizon``."""
        return (self.refresh_every or {}).get(horizon, 1)


class PlanRequest(PlanConfig):
    """The `plan` object of a request: what to plan, and where the previous turn's plan is."""

    previous_id: str | None = Field(
        None,
        min_length=1,
        max_length=160,
        description="the plan of the previous turn, if not found by the conversation hash",
    )

    def config(self) -> PlanConfig:
        return PlanConfig(**self.model_dump(exclude={"previous_id"}))


class PlanLimits(BaseModel):
    """Server-side caps that a request's plan must fit in."""

    model_config = ConfigDict(frozen=True)

    max_rollouts: int = Field(16, ge=1)
    max_lookahead_tokens: int = Field(256, ge=1)
    allowed_horizons: tuple[Horizon, ...] = HORIZON_ORDER
    rollout_budget: int | None = Field(
        None, ge=1, description="rollouts decoding at once across all plans (2 x max_rollouts)"
    )

    @property
    def budget_slots(self) -> int:
        """The server's rollout budget: decode slots shared max-min fairly by running plans.

        Twice the largest K by default (32, the cap across plans before there was a budget):
        a lone plan's tail (up to 4 K once its text is done) runs as it did, and plans are
        degraded only when more of them run than the engine was sized for.
        """
        return self.rollout_budget or 2 * self.max_rollouts

    def check(self, request: PlanRequest, *, chat: bool) -> PlanConfig:
        """The request's plan config, or a 400 naming the field that breaks a limit."""
        if request.rollouts > self.max_rollouts:
            raise InvalidRequestError(
                f"plan.rollouts must be at most {self.max_rollouts} on this server.",
                param="plan.rollouts",
            )
        if request.max_lookahead_tokens > self.max_lookahead_tokens:
            raise InvalidRequestError(
                f"plan.max_lookahead_tokens must be at most {self.max_lookahead_tokens} "
                "on this server.",
                param="plan.max_lookahead_tokens",
            )
        for h in request.horizons:
            if h not in self.allowed_horizons:
                raise InvalidRequestError(
                    f"horizon '{h}' is not allowed on this server.", param="plan.horizons"
                )
        if "user" in request.horizons and not chat:
            raise InvalidRequestError(
                "the 'user' horizon needs a chat conversation (/v1/chat/completions).",
                param="plan.horizons",
            )
        return request.config()
