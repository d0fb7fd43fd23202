"""The terminal chat loop: read a line, stream the reply beside its live plan, repeat."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import TextIO

from rich.console import Console
from rich.live import Live

from foresight_client._client import Client
from foresight_client._exceptions import ForesightError
from foresight_client._models import PlanOptions
from foresight_client.terminal._view import TurnView, previous_turn, summary

QUIT = "/quit"


class ChatSession:
    """A conversation with the server: it resends the whole history each turn, with a plan,
    so that the server finds the previous turn's plan and scores it (``previous_turn``)."""

    def __init__(self, client: Client, plan: PlanOptions, max_tokens: int) -> None:
        self.client = client
        self.plan = plan
        self.max_tokens = max_tokens
        self.messages: list[dict[str, str]] = []

    def turn(self, user: str, on_update: Callable[[TurnView], None]) -> TurnView:
        """Send ``user`` and stream the reply; the history only keeps turns that finished."""
        view = TurnView()
        messages = [*self.messages, {"role": "user", "content": user}]
        with self.client.stream_chat(
            messages, plan=self.plan, max_tokens=self.max_tokens
        ) as stream:
            for event in stream:
                view.update(event)
                on_update(view)
        self.messages = [*messages, {"role": "assistant", "content": view.text}]
        return view


def run_chat(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    horizons: Sequence[str] = ("sentence", "turn", "user"),
    rollouts: int | None = None,
    max_tokens: int = 128,
    refresh: str | int | None = None,
    lookahead: int | None = None,
    client: Client | None = None,
    console: Console | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Chat in the terminal until ``/quit`` or end of input; returns the exit status.

    ``client`` (else one for ``base_url`` and ``api_key``), ``console`` and ``stdin`` (else
    the terminal, with line editing) can be given, e.g. for tests.
    """
    console = console or Console()
    plan = PlanOptions.model_validate(
        {
            "horizons": list(horizons),
            "rollouts": rollouts,
            "refresh": refresh,
            "max_lookahead_tokens": lookahead,
        }
    )
    with _client_for(client, base_url, api_key, model) as chat_client:
        try:
            served = chat_client.models()
        except ForesightError as exc:
            console.print(f"[red]cannot reach Foresight at {chat_client.base_url}: {exc}[/]")
            return 1
        name = model or (served[0].id if served else "?")
        console.print(
            f"[bold]Foresight chat[/] · {name} at {chat_client.base_url} · horizons "
            f"{', '.join(horizons)} · {QUIT} or Ctrl-D to leave"
        )
        session = ChatSession(chat_client, plan, max_tokens)
        while (line := _read(console, stdin)) is not None:
            if line == QUIT:
                break
            if line:
                _one_turn(console, session, line)
    return 0


@contextlib.contextmanager
def _client_for(
    client: Client | None, base_url: str | None, api_key: str | None, model: str | None
) -> Iterator[Client]:
    if client is not None:  # the caller's: the caller closes it
        yield client
        return
    with Client(base_url=base_url, api_key=api_key, model=model) as own:
        yield own


def _read(console: Console, stdin: TextIO | None) -> str | None:
    """The next input line, stripped; None at end of input or Ctrl-C."""
    try:
        line = console.input("[bold blue]you>[/] ", stream=stdin)
    except (EOFError, KeyboardInterrupt):
        console.print()
        return None
    if stdin is not None and not line:  # readline() gives "" only at end of input
        console.print()
        return None
    return line.strip()


def _one_turn(console: Console, session: ChatSession, line: str) -> None:
    view = TurnView()
    try:
        with Live(view.render(), console=console, refresh_per_second=8) as live:
            view = session.turn(line, lambda v: live.update(v.render()))
    except ForesightError as exc:
        console.print(f"[red]error: {exc}[/] (this turn is not kept)")
        return
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/] (this turn is not kept)")
        return
    if view.plan is not None:
        console.print(summary(view.plan))
        if view.plan.previous_turn is not None:
            console.print(previous_turn(view.plan.previous_turn))
