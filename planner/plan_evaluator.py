"""A generation's plan checked against its own text: scores, forks and the finished plan.

Invariant: a snapshot is scored only once the ending it predicted is realised in the main
text (or given), and a fork is judged only once both snapshots exist and their units are
known; neither ever waits on or changes a rollout.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

from planner.climatology import Climatology
from planner.clustering import Clusterer
from planner.comparison import aggregate
from planner.config import Horizon, PlanConfig
from planner.evaluation import Baselines, persistence_members, plan_divergence, score_prediction
from planner.events import Event, ForkFound, ScoreReady
from planner.main_text import MainText, Realised
from planner.plan import Fork, ImplicitSummary, Plan, Snapshot, Unit
from planner.user_reply import UserReply


class PlanEvaluator:
    """Scores snapshots and finds forks as soon as each can be judged."""

    def __init__(
        self,
        plan: Plan,
        main: MainText,
        clusterer: Clusterer,
        horizons_at: Mapping[int, tuple[Horizon, ...]],
        emit: Callable[[Event], None],
        *,
        user_reply: UserReply | None = None,
        climatology: Climatology | None = None,
    ) -> None:
        self.plan = plan
        self.config: PlanConfig = plan.config
        self.main = main
        self.clusterer = clusterer
        self.horizons_at = horizons_at
        self._emit = emit
        self._user_reply = user_reply
        self.climatology = climatology
        # Baselines come from plans finished before this one started (fixed for the plan).
        self._pool = {
            h: climatology.endings(h) if climatology else None for h in self.config.horizons
        }
        self.snapshots: dict[int, Snapshot] = {}
        self._scored: set[tuple[int, Horizon]] = set()
        self._forked: set[tuple[int, int, Horizon]] = set()

    def add(self, snapshot: Snapshot) -> None:
        self.snapshots[snapshot.position] = snapshot
        self.update()

    def update(self) -> None:
        """Score and compare whatever became judgeable."""
        self._score_ready()
        self._fork_ready()

    # -- scores ----------------------------------------------------------------------------

    def _realised(self, horizon: Horizon, position: int) -> tuple[Realised, float | None] | None:
        if horizon == "user":
            reply = self._user_reply
            if reply is None or not self.main.ended_turn:
                return None
            rest = len(self.main.tokens) - position
            return Realised(reply.text, rest + reply.tokens, False), reply.logprob
        realised = self.main.realised(horizon, position)
        if realised is None:
            return None
        lps = self.main.logprobs[position : position + realised.tokens]
        logprob = sum(lp.logprob for lp in lps if lp) if all(lps) else None
        return realised, logprob

    def _score_ready(self) -> None:
        for t, snapshot in sorted(self.snapshots.items()):
            for h, prediction in snapshot.horizons.items():
                if (t, h) in self._scored:
                    continue
                found = self._realised(h, t)
                if found is None:
                    continue
                self._scored.add((t, h))
                realised, logprob = found
                if not self._within_lookahead(h, t, realised):
                    self.plan.unscored[h] = self.plan.unscored.get(h, 0) + 1
                    continue
                baselines = Baselines(self._pool.get(h), self._persistence(h, t))
                score = score_prediction(
                    t, h, prediction, realised, self.clusterer, logprob, baselines=baselines
                )
                self.plan.scores.append(score)
                self._emit(ScoreReady(self.plan.id, score))

    def _persistence(self, h: Horizon, t: int) -> tuple[list[str], list[int]] | None:
        """The previous snapshot's plan of the same unit, seen from ``t``."""
        earlier = [a for a in self.snapshots if a < t and h in self.snapshots[a].horizons]
        if not earlier:
            return None
        prev, cur = self.snapshots[max(earlier)], self.snapshots[t]
        if h != "user":
            start = self.main.unit_start(h, cur.text_offset)
            if self.main.unit_start(h, prev.text_offset) != start:
                return None  # a new unit began between them
        emitted = "" if h == "user" else self.main.text[prev.text_offset : cur.text_offset]
        return persistence_members(prev.horizons[h], emitted)

    def _within_lookahead(self, horizon: Horizon, position: int, realised: Realised) -> bool:
        """Whether a rollout could have reached this ending (the rule in planner.rollout)."""
        limit = self.config.max_lookahead_tokens
        if horizon != "user" or self._user_reply is None:
            return realised.tokens <= limit
        rest = len(self.main.tokens) - position
        return rest <= limit and self._user_reply.reply_tokens <= limit

    # -- forks -----------------------------------------------------------------------------

    def _fork_ready(self) -> None:
        """Compare neighbouring snapshots of each horizon once both exist and their units
        are known."""
        text = self.main.text
        for h in self.config.horizons:
            positions = sorted(t for t, hs in self.horizons_at.items() if h in hs)
            for a, b in itertools.pairwise(positions):
                if (a, b, h) in self._forked or a not in self.snapshots or b not in self.snapshots:
                    continue
                # A unit end at b's offset is certain only once text follows it (or the text
                # ended): until then, a and b cannot be known to share a unit.
                if not self.main.finished and not text[self.snapshots[b].text_offset :].strip():
                    continue
                self._forked.add((a, b, h))
                self._compare(a, b, h)

    def _compare(self, a: int, b: int, h: Horizon) -> None:
        prev, cur = self.snapshots[a], self.snapshots[b]
        start_a = self.main.unit_start(h, prev.text_offset)
        start_b = self.main.unit_start(h, cur.text_offset)
        if start_a != start_b:
            return  # a new unit began between them: nothing to compare
        text = self.main.text
        divergence = plan_divergence(
            prev.horizons[h],
            text[start_a : prev.text_offset],
            cur.horizons[h],
            text[start_b : cur.text_offset],
            self.clusterer,
        )
        if divergence is not None and divergence > self.config.fork_threshold:
            fork = Fork(
                position=b,
                horizon=h,
                divergence=divergence,
                token=self.main.token_text(b - 1) if b > 0 else None,
            )
            self.plan.forks.append(fork)
            self._emit(ForkFound(self.plan.id, fork))

    # -- the finished plan -----------------------------------------------------------------

    def finish(self, wall_seconds: float) -> Plan:
        """Fill in the plan once the text and every refresh are done."""
        plan = self._filled(wall_seconds)
        plan.finished = True
        if self.climatology is not None:
            for h in self.config.horizons:
                self.climatology.add(h, [s.realised for s in plan.scores if s.horizon == h])
        return plan

    def cancelled(self, wall_seconds: float) -> Plan:
        """The plan as far as it got when its request was cancelled: the text so far, the
        snapshots made, the scores already judged (its cut-off endings feed no baseline)."""
        plan = self._filled(wall_seconds)
        plan.cancelled = True
        return plan

    def _filled(self, wall_seconds: float) -> Plan:
        plan = self.plan
        plan.snapshots = [self.snapshots[t] for t in sorted(self.snapshots)]
        plan.text = self.main.text
        plan.completion_tokens = len(self.main.tokens)
        plan.scores.sort(key=lambda s: (s.position, s.horizon))
        plan.forks.sort(key=lambda f: (f.position, f.horizon))
        plan.realised = self._units()
        plan.comparison = aggregate(plan.scores, self.config.horizons)
        plan.implicit = self._implicit_summary()
        plan.stats.wall_seconds = wall_seconds
        return plan

    def _implicit_summary(self) -> ImplicitSummary:
        found = [s.implicit for s in self.plan.snapshots if s.implicit is not None]
        logprobs = self.main.logprobs
        total = sum(lp.logprob for lp in logprobs if lp) if logprobs and all(logprobs) else None
        if not found:
            return ImplicitSummary(model_logprob=total)

        def mean(values: list[float]) -> float:
            return sum(values) / len(values)

        return ImplicitSummary(
            snapshots=len(found),
            mean_total_variation=mean([i.total_variation for i in found]),
            mean_js_divergence=mean([i.js_divergence for i in found]),
            mean_next_token_entropy=mean([i.next_token_entropy for i in found]),
            mean_first_token_entropy=mean([i.empirical_entropy for i in found]),
            model_logprob=total,
        )

    def _units(self) -> dict[Horizon, list[Unit]]:
        units: dict[Horizon, list[Unit]] = {}
        main, index = self.main, self.main.index
        for h in ("sentence", "paragraph"):
            if h not in self.config.horizons:
                continue
            start, out = 0, []
            for end in main.ends[h]:
                out.append(
                    Unit(
                        start_position=index.tokens_to_cover(start),
                        end_position=index.tokens_to_cover(end),
                        text=main.text[start:end].strip(),
                    )
                )
                start = end
            units[h] = out
        if "turn" in self.config.horizons and main.ended_turn:
            n = len(main.tokens)
            units["turn"] = [Unit(start_position=0, end_position=n, text=main.text)]
        if "user" in self.config.horizons and self._user_reply is not None:
            n, reply = len(main.tokens), self._user_reply
            units["user"] = [Unit(start_position=n, end_position=n + reply.tokens, text=reply.text)]
        return units


__all__ = ["PlanEvaluator", "aggregate"]
