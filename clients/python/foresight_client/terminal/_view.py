"""What the terminal chat shows: the reply beside the live plan (rich renderables only)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from foresight_client._events import (
    ForkEvent,
    PlanEvent,
    ScoreEvent,
    SnapshotEvent,
    StreamEvent,
    TextDelta,
)
from foresight_client._plan import Fork, NextTurn, Plan, Score
from foresight_client._snapshot import HorizonSnapshot, Snapshot

CANDIDATES_SHOWN = 3
ENDING_WIDTH = 70


ENDS_HERE = "⏎ the reply ends here"
EMPTY_MESSAGE = "(an empty message)"
PENDING = "score not yet known"
LEGEND = (
    f"{ENDS_HERE}: those rollouts end the reply at this point (an empty ending) · "
    f"{PENDING}: the text has not reached that ending yet (user: until you send your next message)"
)


def _ending(text: str, horizon: str) -> Text:
    # One line per candidate: newlines would break the table's rows.
    flat = " ".join(text.split())
    if not flat:  # an empty ending: the unit ends right at this position
        return Text(EMPTY_MESSAGE if horizon == "user" else ENDS_HERE, style="italic dim")
    return Text(flat if len(flat) <= ENDING_WIDTH else flat[: ENDING_WIDTH - 1] + "…")


class TurnView:
    """One turn's state, fed with stream events, rendered as a reply panel and a plan panel."""

    def __init__(self) -> None:
        self.text = ""
        self.snapshot: Snapshot | None = None
        self.snapshots = 0
        # Each horizon's furthest plan: a snapshot may plan only some horizons (a plan's
        # `refresh_every` thins long ones), and the others' last plans still stand.
        self.horizons: dict[str, tuple[int, HorizonSnapshot]] = {}
        self.forks: list[Fork] = []
        self.scores: dict[str, Score] = {}  # the latest per horizon
        self.scored: dict[tuple[int, str], Score] = {}  # (position, horizon) -> its score
        self.plan: Plan | None = None

    def update(self, event: StreamEvent) -> None:
        """Take one event of choice 0 into the view."""
        if getattr(event, "index", 0) != 0:
            return
        if isinstance(event, TextDelta):
            self.text += event.text
        elif isinstance(event, SnapshotEvent):
            # Snapshots arrive when ready, not always in position order: show the furthest.
            snap = event.snapshot
            if self.snapshot is None or snap.position >= self.snapshot.position:
                self.snapshot = snap
            for name, h in snap.horizons.items():
                if name not in self.horizons or snap.position >= self.horizons[name][0]:
                    self.horizons[name] = (snap.position, h)
            self.snapshots += 1
        elif isinstance(event, ForkEvent):
            self.forks.append(event.fork)
        elif isinstance(event, ScoreEvent):
            self.scores[event.score.horizon] = event.score
            self.scored[(event.score.position, event.score.horizon)] = event.score
        elif isinstance(event, PlanEvent):
            self.plan = event.plan

    def render(self) -> RenderableType:
        """The reply (left) beside the plan (right)."""
        grid = Table.grid(expand=True, padding=(0, 1))
        grid.add_column(ratio=3)
        grid.add_column(ratio=4)
        reply = Panel(Text(self.text or "…"), title="assistant", title_align="left")
        grid.add_row(reply, self._plan_panel())
        return grid

    def _plan_panel(self) -> Panel:
        parts: list[RenderableType] = []
        snap = self.snapshot
        if snap is None:
            parts.append(Text("waiting for the first snapshot…", style="dim"))
        else:
            parts.append(self._horizons(snap.position, self.horizons, self.scored))
        if self.scores:
            parts.append(self._scores())
        for fork in self.forks[-4:]:
            token = f" after {fork.token!r}" if fork.token else ""
            parts.append(
                Text(
                    f"fork @{fork.position} {fork.horizon}: {fork.divergence:.2f} bits{token}",
                    style="bold magenta",
                )
            )
        if snap is not None:
            parts.append(Text(LEGEND, style="dim"))
        where = f" @ token {snap.position}" if snap else ""
        title = f"plan{where} · {self.snapshots} snapshot{'s' * (self.snapshots != 1)}"
        return Panel(Group(*parts), title=title, title_align="left", border_style="cyan")

    @staticmethod
    def _horizons(
        position: int,
        horizons: dict[str, tuple[int, HorizonSnapshot]],
        scored: dict[tuple[int, str], Score],
    ) -> Table:
        table = Table(box=None, show_header=True, expand=True, padding=(0, 1))
        table.add_column("horizon", style="bold", no_wrap=True)
        table.add_column("p", justify="right", no_wrap=True)
        table.add_column("ending", ratio=1)
        for name, (at, h) in horizons.items():
            mean = h.tokens_to_end.mean
            tokens = f" ~{mean:.0f} tok" if mean is not None else ""
            since = f" @{at}" if at != position else ""  # planned at an earlier point
            # + 0.0 turns the -0.0 of a single certain candidate into 0.0.
            score = scored.get((at, name))
            verdict = (
                f"scored {'✓' if score.top1 else '✗'} log {score.log_score:.2f}"
                if score is not None
                else PENDING
            )
            label = Text(f"{name}{since}\nH={h.entropy + 0.0:.2f}{tokens}\n{verdict}")
            if not h.candidates:
                table.add_row(label, "", Text("not reached within the lookahead", style="dim"))
                continue
            for i, c in enumerate(h.candidates[:CANDIDATES_SHOWN]):
                table.add_row(
                    label if i == 0 else "", f"{c.probability:.2f}", _ending(c.text, name)
                )
            table.add_section()
        return table

    def _scores(self) -> Text:
        bits = [
            f"{h} {'✓' if s.top1 else '✗'} log {s.log_score:.2f} "
            f"(uniform {s.uniform_log_score:.2f})"
            for h, s in self.scores.items()
        ]
        return Text("scored: " + " · ".join(bits), style="green")


def summary(plan: Plan) -> Text:
    """One line per horizon: how the plan scored over the whole reply."""
    lines = [f"plan {plan.id}: {len(plan.snapshots)} snapshots, {len(plan.forks)} forks"]
    for horizon, c in plan.comparison.items():
        if c.n and c.log_score is not None and c.uniform_log_score is not None:
            top1 = f"{c.top1_accuracy:.2f}" if c.top1_accuracy is not None else "-"
            lines.append(
                f"  {horizon}: n={c.n} top-1 {top1} log score {c.log_score:.2f} "
                f"(uniform {c.uniform_log_score:.2f})"
            )
    return Text("\n".join(lines), style="dim")


def previous_turn(turn: NextTurn) -> Text:
    """How the last reply's plan predicted the message the user really sent."""
    parts = ["previous turn:"]
    if turn.predictions:
        best = max(p.probability for p in turn.predictions)
        last = turn.predictions[-1]
        parts.append(
            f"your message got p={last.probability:.2f} at the reply's end (best {best:.2f}),"
            f" log score {last.log_score:.2f}, top-1 {'✓' if last.top1 else '✗'}"
        )
    else:
        parts.append("no 'user' predictions to score")
    if turn.model_logprob is not None:
        parts.append(f"· model log p {turn.model_logprob:.1f} over {turn.model_tokens} tokens")
    return Text(" ".join(parts), style="yellow")
