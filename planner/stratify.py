"""Stratified first tokens: a refresh's fresh rollouts spread over the likeliest next tokens.

At a refresh at position t the main sequence reports the distribution of token t (its top
logprobs, processed: the distribution it samples from). Instead of K' independent draws,
each token v with n_v = floor(K' p_v) >= 1 is *forced* as the first token of n_v rollouts,
and the remaining K' - sum n_v rollouts (at least one whenever the forced tokens leave mass)
draw their first token from the *rest*: the distribution with the forced tokens banned, which
with top-k and top-p off is exactly p(v | v not forced). Each rollout then continues as any
rollout does, so a rollout of stratum s is an exact draw from p(continuation | stratum s).

Weights (post-stratification): a member of stratum s weighs p_s / m_s, m_s the members the
refresh holds in s. Members not drawn for a stratum (carried over from an earlier refresh, or
a plain replacement of one that dropped out) are free draws from the whole distribution; each
joins the stratum its token t falls in. Given which strata the free draws fell in, every
member is an exact draw from its stratum's conditional distribution, and every stratum of
positive mass holds at least one designed draw, so sum_i w_i f(x_i) is an unbiased estimate of
E f for any f (the plan's cluster shares included): exact, whatever was carried.

Invariant: which token a rollout is given depends only on the main sequence's distribution at
t and on how many members were carried in, never on a rollout's future.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.engine.protocol import Sampling, TokenLogprob
from planner.main_text import MainText

if TYPE_CHECKING:
    from planner.rollout import Rollout

REST = -1  # the stratum index of "any token but the forced ones"


@dataclass(frozen=True)
class Stratum:
    """Where a designed rollout's first token comes from."""

    index: int  # position in Design.strata; REST for the rest
    token: int | None  # the forced first token; None for the rest
    logprob: float  # log p of the forced token; log of the rest's mass for the rest
    text: str = ""  # the forced token's text
    banned: frozenset[int] = frozenset()  # for the rest: the forced tokens


@dataclass(frozen=True)
class Design:
    """The strata of one refresh and the fresh draws allocated to each."""

    strata: tuple[Stratum, ...]  # forced tokens, most probable first
    counts: tuple[int, ...]  # designed draws per forced stratum
    rest: Stratum | None  # None when the forced tokens hold all the mass
    rest_count: int

    def draws(self) -> list[Stratum]:
        """One stratum per designed fresh rollout, in allocation order."""
        out = [s for s, n in zip(self.strata, self.counts, strict=True) for _ in range(n)]
        return out + ([self.rest] * self.rest_count if self.rest is not None else [])

    def stratum_of(self, token: int | None) -> int:
        """The stratum index a free draw with first token ``token`` falls in."""
        for s in self.strata:
            if s.token == token:
                return s.index
        return REST

    def mass(self, index: int) -> float:
        if index == REST:
            return math.exp(self.rest.logprob) if self.rest is not None else 0.0
        return math.exp(self.strata[index].logprob)


def can_stratify(sampling: Sampling) -> bool:
    """Whether banning tokens samples the rest exactly: no truncation of the distribution
    (top-k, top-p renormalise over what is left, so a ban would move them) and no
    penalties (the main sequence's and a rollout's outputs differ), and not greedy."""
    return (
        sampling.temperature > 1e-5
        and sampling.top_p >= 1.0
        and sampling.top_k in (0, -1)
        and sampling.presence_penalty == 0.0
        and sampling.frequency_penalty == 0.0
        and sampling.repetition_penalty == 1.0
    )


def allocate(next_token: TokenLogprob, k: int, eos_ids: frozenset[int]) -> Design | None:
    """The design for ``k`` fresh draws from the reported next-token distribution.

    None when no token earns a draw of its own (then every draw is plain: the same thing).
    """
    top = [(tid, lp, text) for tid, lp, text in next_token.top if lp > -math.inf]
    forced = [(tid, lp, text, math.floor(k * math.exp(lp))) for tid, lp, text in top]
    forced = [f for f in forced if f[3] >= 1]
    if k < 1 or not forced:
        return None
    rest_mass = max(0.0, 1.0 - math.fsum(math.exp(lp) for _, lp, _, _ in forced))
    counts = [n for *_, n in forced]
    # floor(k p) sums to < k whenever the rest has mass, but float rounding may say otherwise:
    # the rest must keep a draw, or its mass would have no estimate (a bias).
    while rest_mass > 0.0 and sum(counts) >= k:
        i = max(range(len(counts)), key=counts.__getitem__)
        counts[i] -= 1
        if counts[i] == 0:  # the token joins the rest
            rest_mass += math.exp(forced[i][1])
            del forced[i], counts[i]
    if not forced:
        return None
    left = k - sum(counts)
    if rest_mass <= 0.0:  # nothing outside: the leftover draws go to the largest remainders
        order = sorted(range(len(forced)), key=lambda i: -(k * math.exp(forced[i][1]) - counts[i]))
        for i in order[:left]:
            counts[i] += 1
        left = 0
    strata = tuple(
        Stratum(i, tid, lp, "" if tid in eos_ids else text)
        for i, (tid, lp, text, _) in enumerate(forced)
    )
    rest = None
    if rest_mass > 0.0:
        banned = frozenset(s.token for s in strata if s.token is not None)
        rest = Stratum(REST, None, math.log(rest_mass), banned=banned)
    return Design(strata, tuple(counts), rest, left)


def weights(design: Design | None, labels: Sequence[int]) -> list[float]:
    """Each member's weight, given its stratum index (post-stratified; they sum to 1).

    Plain (no design): 1/n each.
    """
    if not labels:
        return []
    if design is None:
        return [1.0 / len(labels)] * len(labels)
    members = Counter(labels)
    return [design.mass(s) / members[s] for s in labels]


class FreshDraws:
    """The strata one refresh hands its fresh rollouts, decided once, when first needed."""

    def __init__(self, stratified: bool) -> None:
        self.design: Design | None = None
        self.decided = not stratified
        self._queue: list[Stratum] = []

    def decide(self, main: MainText, position: int, fresh: int) -> bool:
        """Allocate ``fresh`` draws from the main sequence's distribution at ``position``;
        False while that distribution is still to come (one main decode step at most)."""
        if self.decided:
            return True
        if position < len(main.logprobs):
            lp = main.logprobs[position]
            self.design = allocate(lp, fresh, main.eos_ids) if lp is not None and lp.top else None
        elif not main.finished:
            return False
        self.decided = True
        self._queue = self.design.draws() if self.design is not None else []
        return True

    def next(self) -> Stratum | None:
        """The stratum of the next fresh rollout (None: a plain draw)."""
        return self._queue.pop(0) if self._queue else None

    def give_back(self, stratum: Stratum) -> None:
        """A designed rollout failed: its replacement draws from the same stratum."""
        self._queue.insert(0, stratum)

    def label(self, r: Rollout, position: int) -> int:
        """The stratum ``r`` counts in at ``position``: its own if designed here, else the
        one its token at ``position`` falls in."""
        if self.design is None:
            return REST
        if r.start == position and r.stratum is not None:
            return r.stratum.index
        k = position - r.start
        return self.design.stratum_of(r.tokens[k] if k < len(r.tokens) else None)

    def weights(self, members: Sequence[Rollout], position: int) -> list[float]:
        return weights(self.design, [self.label(r, position) for r in members])
