"""The plan as typed objects: forks, implicit, turns, and the plan itself.

Mirrors the server's plan payload (see the README's "What comes back"); every model keeps
fields it does not know, so a newer server does not break an older client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from foresight_client._base_model import ForesightModel
from foresight_client._scores import Comparison, Score
from foresight_client._snapshot import Snapshot, Unit

if TYPE_CHECKING:
    from foresight_client._tables import PlanRow


class Fork(ForesightModel):
    """A refresh where a horizon's plan moved far from the previous snapshot."""

    position: int
    """Completion tokens before the fork."""
    horizon: str
    """The horizon whose plan moved."""
    divergence: float = 0.0
    """Jensen-Shannon divergence from the previous snapshot, in bits."""
    token: str | None = None
    """The token emitted just before the fork."""


class PlanStats(ForesightModel):
    """What the plan cost."""

    refreshes: int = 0
    """Refreshes (snapshots taken)."""
    rollouts_started: int = 0
    """Rollouts sampled."""
    rollouts_carried: int = 0
    """Rollouts carried over to a later refresh."""
    rollouts_aborted: int = 0
    """Rollouts stopped because the text left them behind."""
    rollout_tokens: int = 0
    """Tokens generated for rollouts."""
    needed_rollout_tokens: int = 0
    """Tokens the snapshots used, carried or fresh."""
    carried_rollout_tokens: int = 0
    """Of those, tokens carried over instead of generated again."""
    rollout_prompt_tokens: int = 0
    """Prompt tokens of the rollouts' engine requests."""
    rollout_cached_prompt_tokens: int = 0
    """Of those, tokens the engine's prefix cache served."""
    wall_seconds: float = 0.0
    """Wall time spent planning."""

    @property
    def carried_fraction(self) -> float | None:
        """Share of the needed rollout tokens that carry-over saved."""
        if not self.needed_rollout_tokens:
            return None
        return self.carried_rollout_tokens / self.needed_rollout_tokens


class ImplicitSummary(ForesightModel):
    """The explicit plan beside the model's implicit state, over the whole generation."""

    snapshots: int = 0
    """Snapshots compared."""
    mean_total_variation: float | None = None
    """Mean total variation."""
    mean_js_divergence: float | None = None
    """Mean Jensen-Shannon divergence, in bits."""
    mean_next_token_entropy: float | None = None
    """Mean next-token entropy, in nats."""
    mean_first_token_entropy: float | None = None
    """Mean entropy of the rollouts' first tokens, in nats."""
    model_logprob: float | None = None
    """The model's log-probability of the whole generated text."""


class TurnPrediction(ForesightModel):
    """One snapshot's ``user`` prediction checked against the user's real next message."""

    position: int = 0
    """Position of the snapshot."""
    probability: float = 0.0
    """Plan mass on the candidate that means the same as the real message."""
    log_score: float = 0.0
    """Log score of the real message over the candidates and novel."""
    top1: bool = False
    """The top candidate meant the same as the real message."""
    in_candidates: bool = False
    """Some candidate did."""
    best_match: str | None = None
    """The candidate that matched, if any."""


class NextTurn(ForesightModel):
    """A plan scored against the conversation's real next user message."""

    plan_id: str = ""
    """The plan that made the predictions (the previous turn's)."""
    user: str = ""
    """The user's real next message."""
    assistant_matches: bool = False
    """The resent assistant message equals the text the plan was made along."""
    model_logprob: float | None = None
    """The model's log-probability of the real user message."""
    model_tokens: int = 0
    """Tokens of the user message that ``model_logprob`` covers."""
    predictions: list[TurnPrediction] = Field(default_factory=list)
    """One per snapshot that predicted the ``user`` horizon."""
    comparison: Comparison | None = None
    """The predictions' scores summarised (None without ``user`` predictions)."""


class PlanConfig(ForesightModel):
    """The plan settings the server used (its defaults filled in)."""

    horizons: list[str] = Field(default_factory=list)
    """Horizons planned."""
    rollouts: int = 0
    """Rollouts summarised per refresh."""
    refresh: str | int = "sentence"
    """``sentence``, ``token``, or every N tokens."""
    refresh_every: dict[str, int] = Field(default_factory=dict)
    """Horizons planned only at every n-th refresh point (others: every point)."""
    rollouts_in_flight: int | None = None
    """Rollouts decoding beside the text at once (None: half of ``rollouts``)."""
    max_lookahead_tokens: int = 0
    """How far a rollout looks."""
    pace: str = "text"
    """``text`` (text at once, snapshots when ready) or ``plan`` (text held back, at most
    ``max_hold_ms``, until the plan for it is out)."""
    max_hold_ms: int = 0
    """With pace ``plan``, the longest a text token waited for a snapshot."""
    refresh_policy: str = "fixed"
    """Rollouts per refresh: ``fixed`` or ``adaptive``."""
    sampling: str = "plain"
    """How refreshes draw fresh rollouts: ``plain`` or ``stratified``."""
    clustering: str = "embedding"
    """``embedding`` (by meaning) or ``text`` (exact)."""
    include_rollouts: bool = False
    """Whether snapshots list their rollouts."""
    fork_threshold: float = 0.5
    """Divergence in bits above which a refresh is a fork."""
    id: str | None = None
    """The id asked for, if any."""


class Plan(ForesightModel):
    """Everything Foresight knows about one generation's plan."""

    id: str
    """The plan's id (``GET /v1/plans/{id}``)."""
    object: str = "plan"
    """Always ``plan``."""
    config: PlanConfig = Field(default_factory=PlanConfig)
    """The settings used."""
    prompt_tokens: int = 0
    """Tokens of the prompt."""
    completion_tokens: int = 0
    """Tokens generated (or followed, for analyze)."""
    text: str = ""
    """The completion text the plan was made along."""
    finished: bool = False
    """The generation finished (not cut off)."""
    cancelled: bool = False
    """The server shut down before the plan finished; it holds what was planned until then."""
    snapshots: list[Snapshot] = Field(default_factory=list)
    """The plan at each refresh, in order."""
    realised: dict[str, list[Unit]] = Field(default_factory=dict)
    """Per horizon, the sentences, paragraphs or turn the text really had."""
    scores: list[Score] = Field(default_factory=list)
    """Each snapshot's prediction scored against what happened."""
    comparison: dict[str, Comparison] = Field(default_factory=dict)
    """Per horizon, the scores summarised."""
    forks: list[Fork] = Field(default_factory=list)
    """Refreshes where the plan moved far."""
    implicit: ImplicitSummary = Field(default_factory=ImplicitSummary)
    """The plan beside the model's implicit state, over the generation."""
    stats: PlanStats = Field(default_factory=PlanStats)
    """What the plan cost."""
    unscored: dict[str, int] = Field(default_factory=dict)
    """Per horizon, snapshots whose ending lay beyond the lookahead."""
    stored: bool = False
    """The plan was stored (and can be fetched by id)."""
    store_error: str | None = None
    """Why it was not stored."""
    conversation: str | None = None
    """Conversation id, for ``plans.list(conversation)`` (chat only)."""
    model: str | None = None
    """The model that generated."""
    created: float | None = None
    """Unix time the plan was stored."""
    next_turn: NextTurn | None = None
    """This plan scored against the user's real next message, once that arrived."""
    previous_turn: NextTurn | None = None
    """On a continued conversation: the previous turn's plan scored against this message."""

    def rows(self) -> list[PlanRow]:
        """One row per snapshot and horizon (see ``plan_rows``)."""
        from foresight_client._tables import plan_rows

        return plan_rows(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The plan as JSON, unknown fields included (``Plan.model_validate_json`` reads it)."""
        from foresight_client._tables import plan_to_json

        return plan_to_json(self, indent=indent)


def parse_plan(data: Any) -> Plan:
    """A plan from its JSON object (streamed final plans carry ``index`` and ``type`` too)."""
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in ("index", "type")}
    return Plan.model_validate(data)
