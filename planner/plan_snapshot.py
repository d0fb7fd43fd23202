"""The plan at one refresh, as data: candidates, horizons, the implicit state, rollouts.

Re-exported by ``planner.plan``; nothing here computes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from planner.config import Horizon

# Why a refresh gathered the rollouts it did; ``Snapshot.refresh_reason`` documents each.
RefreshReason = Literal[
    "fixed",
    "adaptive: next token nearly certain",
    "adaptive: text branches",
    "adaptive: usual",
    "adaptive: no next token",
    "adaptive: no next-token distribution",
]


class _Data(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Candidate(_Data):
    """One candidate ending (a cluster of rollouts that end the same way in meaning)."""

    text: str = Field(
        description="representative text from the snapshot position to the end ('' when the "
        "reply ends at once: see ends_reply)"
    )
    probability: float = Field(
        description="probability that the horizon ends this way, given that it ends within "
        "the lookahead: the cluster's share of the reached rollouts times the sample coverage "
        "(1 - novel)"
    )
    count: int = Field(description="rollouts in this cluster")
    share: float = Field(
        0.0,
        description="the cluster's rollouts' summed weight (count/K with plain sampling): "
        "an unbiased estimate of the probability that the horizon ends this way within "
        "the lookahead, before the coverage adjustment",
    )
    ends_reply: bool = Field(
        False,
        description="the ending closes the assistant's reply (end of turn); scores report "
        "such endings apart",
    )
    logprob: float | None = Field(
        None,
        description="the model's log-probability of the representative ending's tokens from "
        "the snapshot's prefix, under the distribution the rollouts were sampled from (null "
        "if the engine did not report it)",
    )
    exact_mass: float | None = Field(
        None,
        description="the model's probability of the cluster's distinct sampled endings, summed: "
        "a lower bound of the cluster's true probability (not conditioned on reaching)",
    )


class TokensToEnd(_Data):
    """Distribution of the number of tokens from the snapshot to the horizon's end."""

    mean: float | None = Field(
        None,
        description="mean tokens from the snapshot to the ending, over rollouts that reached it",
    )
    p10: float | None = Field(None, description="10th percentile of those tokens")
    p50: float | None = Field(None, description="median of those tokens")
    p90: float | None = Field(None, description="90th percentile of those tokens")


class ConsensusTerm(_Data):
    """A content word, name or number most of the rollouts' endings share."""

    term: str = Field(description="the word, lower case")
    share: float = Field(description="share of the reached endings that contain it")
    kind: Literal["word", "name", "number"] = Field(
        description="number (has a digit), name (always capitalised past an ending's first "
        "word) or word"
    )


class Consensus(_Data):
    """What the rollouts agree on, from their texts alone (no model call)."""

    share: float = Field(description="the share of endings a term needs to be listed")
    terms: list[ConsensusTerm] = Field(description="consensus terms, most shared first")
    median_words: float = Field(description="median length of the endings, in words")
    ends_reply_share: float = Field(description="share of endings that close the reply")
    question_share: float = Field(description="share of endings that end with a question mark")
    list_share: float = Field(description="share of endings that contain a list item")


class HorizonSnapshot(_Data):
    """The plan for one horizon at one refresh."""

    candidates: list[Candidate] = Field(
        description="most probable first; their probabilities and novel sum to 1"
    )
    novel: float = Field(
        1.0,
        description="probability that the ending is none of the candidates: 1 - the sample "
        "coverage of the reached rollouts (Chao-Jost; 1 when none reached the horizon). "
        "Rollouts that did not reach it are left out of the sample, so they widen it",
    )
    entropy: float = Field(
        description="coverage-adjusted (Chao-Shen) entropy of the ending, in nats, unseen "
        "endings included (0 when no rollout reached the horizon)"
    )
    exact_mass: float | None = Field(
        None,
        description="the candidates' exact masses summed: the model's probability of the "
        "distinct endings the rollouts sampled (null without logprobs)",
    )
    exact_share: float | None = Field(
        None,
        description="exact_mass over the plan's probability of its candidates, made "
        "unconditional with the reached share (reached / K * (1 - novel)): how much of what "
        "the plan puts on its candidates the model's own probabilities account for",
    )
    tokens_to_end: TokensToEnd = Field(
        description="tokens from the snapshot to the ending, over the rollouts"
    )
    fresh_rollouts: int = Field(description="rollouts sampled for this refresh")
    carried_rollouts: int = Field(
        description="rollouts carried over from earlier refreshes (they agreed with the text "
        "since; still exact samples)"
    )
    consensus: Consensus | None = Field(
        None, description="what the reached endings agree on (null if none reached)"
    )
    reached: int = Field(description="rollouts that reached this horizon within the lookahead")
    not_reached: int = Field(
        description="rollouts that did not: left out of the sample the probabilities come from "
        "(fewer reached rollouts raise novel)"
    )


class Implicit(_Data):
    """The explicit plan beside the model's implicit state at the same position."""

    total_variation: float = Field(
        description="total variation distance between the rollouts' first tokens and the "
        "model's top next-token distribution"
    )
    js_divergence: float = Field(
        description="Jensen-Shannon divergence between the same two, in bits"
    )
    next_token_entropy: float = Field(
        description="entropy of the model's next-token distribution (top logprobs), in nats"
    )
    empirical_entropy: float = Field(description="entropy of the rollouts' first tokens, in nats")
    top_mass: float = Field(description="probability mass the model's top logprobs cover")
    collision_probability: float = Field(
        description="sum of squared next-token probabilities: the chance two samples agree "
        "on the next token"
    )


class RolloutView(_Data):
    """One rollout as used by a snapshot (only with ``include_rollouts``)."""

    text: str = Field(
        description="the rollout's text from the snapshot position, as far as this refresh used it"
    )
    tokens: int = Field(description="tokens of that text")
    carried: bool = Field(
        description="whether the rollout was carried over from an earlier refresh"
    )
    endings: dict[Horizon, str | None] = Field(
        description="per horizon, the rollout's ending text, or null if it did not reach it"
    )
    weight: float = Field(
        description="its weight in the plan: 1/K with plain sampling; with stratified "
        "sampling its first token's probability over the rollouts that share it"
    )


class Snapshot(_Data):
    """The plan as it stood at one refresh."""

    position: int = Field(description="completion tokens emitted before this refresh")
    text_offset: int = Field(description="characters of completion text before this refresh")
    trigger: str = Field(description="start, sentence, interval or token")
    preceding_token: str | None = Field(description="the token just before the refresh")
    horizons: dict[Horizon, HorizonSnapshot] = Field(
        description="the horizons this refresh planned (config.refresh_every can leave "
        "long ones out; their last earlier plan stands)"
    )
    implicit: Implicit | None = Field(
        None,
        description="the rollouts' first tokens beside the model's next-token distribution "
        "here (null without logprobs)",
    )
    latency_seconds: float = Field(description="from the refresh point to the snapshot")
    rollouts: list[RolloutView] | None = Field(
        None, description="the rollouts this snapshot used (only with include_rollouts)"
    )
    rollouts_asked: int = Field(
        0,
        description="this refresh's target: K, or with refresh_policy 'adaptive' its K/2 or 2 K",
    )
    rollouts_used: int = Field(
        0,
        description="rollouts this snapshot summarises (carried over and fresh); fewer than "
        "asked when the server's rollout budget was short",
    )
    degraded: bool = Field(
        False,
        description="the server's rollout budget, shared with other plans, gave this refresh "
        "fewer rollouts than its target (rollouts_used < rollouts_asked); carried-over "
        "rollouts, which cost no decode, may fill the target despite a short budget",
    )
    late: bool = Field(
        False,
        description="the client had been sent text past this snapshot's position before the "
        "snapshot: with plan.pace 'text' whenever the plan trailed the text, with 'plan' "
        "only when plan.max_hold_ms ran out",
    )
    refresh_reason: RefreshReason = Field(
        "fixed",
        description="why this refresh gathered the rollouts it did (rollouts_asked): "
        "'fixed': K, the default refresh_policy; with refresh_policy 'adaptive', from the "
        "next-token distribution at the refresh point: 'adaptive: next token nearly "
        "certain' (top-1 p >= 0.9): K/2 rounded up; 'adaptive: text branches' (entropy >= "
        "1.5 nats): 2 K; 'adaptive: usual' (neither): K; 'adaptive: no next token' (the "
        "text ended here): K; 'adaptive: no next-token distribution' (no logprobs there): "
        "K. The entropy itself is implicit.next_token_entropy; a refresh that needed no "
        "fresh rollout has fresh_rollouts 0 in each horizon",
    )
    sampling: Literal["plain", "stratified"] = Field(
        "plain",
        description="how this refresh drew its fresh rollouts (stratified needs the next "
        "token's distribution and no top_p, top_k or penalties; else plain)",
    )

    @field_validator("refresh_reason", mode="before")
    @classmethod
    def _legacy_reason(cls, value: object) -> object:
        # Plans stored before the closed set carry free text with the reading's numbers and
        # "; all carried over": "adaptive: usual (entropy 0.42 nats); all carried over".
        if isinstance(value, str):
            return value.split(";")[0].split(" (")[0]
        return value
