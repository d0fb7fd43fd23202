"""The plan at one refresh: snapshots, their horizons and candidates, realised units.

Mirrors the server's plan payload; every model keeps fields it does not know.
"""

from __future__ import annotations

from pydantic import Field

from foresight_client._base_model import ForesightModel


class Candidate(ForesightModel):
    """One candidate ending: a cluster of rollouts that end the horizon the same way."""

    text: str
    """Representative text from the snapshot position to the horizon's end."""
    probability: float
    """Probability of this ending, given the horizon ends within the lookahead: the cluster's
    share of the reached rollouts times the sample coverage (candidates + novel sum to 1)."""
    count: int = 0
    """Rollouts in this cluster."""
    share: float = 0.0
    """Its rollouts' summed weight (count/K plain): an unbiased estimate of the ending's
    probability within the lookahead, before the coverage adjustment."""
    ends_reply: bool = False
    """The ending closes the assistant's reply (text '' when the reply ends at once)."""
    logprob: float | None = None
    """The model's log-probability of the representative ending from the snapshot's prefix."""
    exact_mass: float | None = None
    """The model's probability of the cluster's distinct sampled endings (a lower bound)."""


class TokensToEnd(ForesightModel):
    """How many tokens from the snapshot to the horizon's end, over the rollouts."""

    mean: float | None = None
    """Mean tokens to the end (None if no rollout reached it)."""
    p10: float | None = None
    """10th percentile."""
    p50: float | None = None
    """Median."""
    p90: float | None = None
    """90th percentile."""


class Implicit(ForesightModel):
    """The explicit plan beside the model's next-token distribution at the same position."""

    total_variation: float | None = None
    """Total variation between the rollouts' first tokens and the next-token distribution."""
    js_divergence: float | None = None
    """Jensen-Shannon divergence between the two, in bits."""
    next_token_entropy: float | None = None
    """Entropy of the model's next-token distribution, in nats."""
    empirical_entropy: float | None = None
    """Entropy of the rollouts' first tokens, in nats."""
    top_mass: float | None = None
    """Probability mass of the model's top next tokens."""
    collision_probability: float | None = None
    """Chance that two samples of the next token agree."""


class ConsensusTerm(ForesightModel):
    """A content word, name or number most of the rollouts' endings share."""

    term: str = ""
    """The word, lower case."""
    share: float = 0.0
    """Share of the reached endings that contain it."""
    kind: str = "word"
    """``word``, ``name`` or ``number``."""


class Consensus(ForesightModel):
    """What the rollouts agree on, from their texts alone."""

    share: float = 0.5
    """The share of endings a term needs to be listed."""
    terms: list[ConsensusTerm] = Field(default_factory=list)
    """Consensus terms, most shared first."""
    median_words: float = 0.0
    """Median length of the endings, in words."""
    ends_reply_share: float = 0.0
    """Share of endings that close the reply."""
    question_share: float = 0.0
    """Share of endings that end with a question mark."""
    list_share: float = 0.0
    """Share of endings that contain a list item."""


class HorizonSnapshot(ForesightModel):
    """The plan for one horizon (sentence, paragraph, turn, user) at one refresh."""

    candidates: list[Candidate] = Field(default_factory=list)
    """Candidate endings, most probable first; their probabilities and ``novel`` sum to 1."""
    novel: float = 1.0
    """Probability that the ending is none of the candidates (1 - sample coverage)."""
    entropy: float = 0.0
    """Coverage-adjusted (Chao-Shen) entropy of the ending, in nats."""
    exact_mass: float | None = None
    """The candidates' exact masses summed (the model's probability of the sampled endings)."""
    exact_share: float | None = None
    """How much of the plan's probability of its candidates the exact masses account for."""
    tokens_to_end: TokensToEnd = Field(default_factory=TokensToEnd)
    """Distribution of tokens from here to the horizon's end."""
    fresh_rollouts: int = 0
    """Rollouts sampled at this refresh."""
    carried_rollouts: int = 0
    """Rollouts carried over from earlier refreshes (still consistent with the text)."""
    consensus: Consensus | None = None
    """What the reached endings agree on (None if none reached)."""
    reached: int = 0
    """Rollouts that reached this horizon within the lookahead."""
    not_reached: int = 0
    """Rollouts that did not (left out of the sample; fewer reached raise ``novel``)."""

    @property
    def top(self) -> Candidate | None:
        """The most probable candidate, if any rollout reached the horizon."""
        return self.candidates[0] if self.candidates else None


class RolloutView(ForesightModel):
    """One rollout used by a snapshot (only with ``include_rollouts``)."""

    text: str = ""
    """The rollout's text."""
    tokens: int = 0
    """Its length in tokens."""
    carried: bool = False
    """Carried over from an earlier refresh."""
    endings: dict[str, str | None] = Field(default_factory=dict)
    """Per horizon, the ending this rollout reached (None if not within the lookahead)."""
    weight: float = 0.0
    """Its weight in the plan (1/K plain; by its first token's stratum when stratified)."""


class Snapshot(ForesightModel):
    """The plan as it stood at one refresh."""

    position: int
    """Completion tokens emitted before this refresh."""
    text_offset: int = 0
    """Characters of completion text before this refresh."""
    trigger: str = ""
    """What caused the refresh: start, sentence, interval or token."""
    preceding_token: str | None = None
    """The token just before the refresh."""
    horizons: dict[str, HorizonSnapshot] = Field(default_factory=dict)
    """The plan per horizon this refresh planned: with ``refresh_every`` a horizon that was
    not due here is left out, and its last earlier plan stands."""
    implicit: Implicit | None = None
    """The plan beside the model's own next-token distribution."""
    latency_seconds: float = 0.0
    """Seconds from reaching the refresh point to the snapshot being ready."""
    rollouts: list[RolloutView] | None = None
    """The rollouts themselves, with ``include_rollouts``."""
    rollouts_asked: int = 0
    """This refresh's target: K, or with the adaptive refresh policy its K/2 or 2 K."""
    rollouts_used: int = 0
    """Rollouts this snapshot summarises; fewer than asked when the server's rollout budget,
    shared with other plans, was short."""
    degraded: bool = False
    """The rollout budget gave this refresh fewer rollouts than asked."""
    late: bool = False
    """The text past this snapshot's position reached the client first (pace ``text``, or
    the ``max_hold_ms`` bound of pace ``plan`` ran out)."""
    sampling: str = "plain"
    """How this refresh drew its fresh rollouts: ``plain`` or ``stratified``."""
    refresh_reason: str = "fixed"
    """Why this refresh gathered the rollouts it did, one of: ``fixed`` (K, the default
    policy); with the adaptive policy ``adaptive: next token nearly certain`` (K/2),
    ``adaptive: text branches`` (2 K), ``adaptive: usual``, ``adaptive: no next token`` or
    ``adaptive: no next-token distribution`` (K). A ``str``, not a closed type, so that a
    newer server's reason still reads."""


class Unit(ForesightModel):
    """A realised sentence, paragraph or turn of the generated text."""

    start_position: int = 0
    """Completion token where it starts."""
    end_position: int = 0
    """Completion token where it ends."""
    text: str = ""
    """Its text."""
