"""How many rollouts a refresh gathers, and why: the same K everywhere, or spent where the
text branches.

Invariant: the decision depends only on what is known at the refresh point (the main
sequence's next-token distribution there, the plan's settings), never on a rollout's
future, so whichever rollouts a refresh gathers stay exact samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from planner.config import PlanConfig
from planner.engine.protocol import TokenLogprob
from planner.main_text import MainText
from planner.plan import RefreshReason

# Top-1 probability from which the next token is nearly certain: the plan after it is
# nearly the plan before it, and carried rollouts cover most of it.
CERTAIN = 0.9
# Next-token entropy (nats, top-20 plus one bucket for the rest) from which the text
# branches here: the endings spread over the first tokens' branches.
BRANCHING = 1.5


@dataclass(frozen=True)
class Decision:
    """The rollouts one refresh gathers and the reason (``Snapshot.refresh_reason``)."""

    rollouts: int
    reason: RefreshReason


def next_token_entropy(next_token: TokenLogprob) -> tuple[float, float]:
    """(top-1 probability, entropy in nats with the unreported rest as one outcome)."""
    probs = [math.exp(lp) for _, lp, _ in next_token.top]
    rest = max(0.0, 1.0 - math.fsum(probs))
    entropy = -math.fsum(p * math.log(p) for p in [*probs, rest] if p > 0)
    return max(probs, default=0.0), entropy


def decide(config: PlanConfig, main: MainText, position: int) -> Decision | None:
    """The refresh's rollouts; None while the adaptive policy awaits the next-token
    distribution (one main decode step at most)."""
    k = config.rollouts
    if config.refresh_policy == "fixed":
        return Decision(k, "fixed")
    if position >= len(main.logprobs):
        return None if not main.finished else Decision(k, "adaptive: no next token")
    lp = main.logprobs[position]
    if lp is None or not lp.top:
        return Decision(k, "adaptive: no next-token distribution")
    top1, entropy = next_token_entropy(lp)
    if top1 >= CERTAIN:
        return Decision(-(-k // 2), "adaptive: next token nearly certain")
    if entropy >= BRANCHING:
        return Decision(2 * k, "adaptive: text branches")
    return Decision(k, "adaptive: usual")
