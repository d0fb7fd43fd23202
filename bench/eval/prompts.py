"""The conversations an evaluation plans: one JSON object per line.

A line is ``{"id": ..., "kind": ..., "messages": [{"role": ..., "content": ...}, ...]}``
(or ``"prompt": "..."`` for a single user message), optionally with ``"horizons"``.
Messages that end with a user message are answered by the model (the reply is sampled and
planned). Messages that end with an assistant message and then a user message are a turn
to follow: the plan is made along the given assistant reply and its ``user`` horizon is
scored against the user's real next message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from planner import HORIZON_ORDER, Horizon

ROLES = ("system", "user", "assistant")
Mode = Literal["generate", "follow"]


class PromptError(ValueError):
    """A prompt file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class EvalPrompt:
    """One conversation to plan."""

    id: str
    kind: str
    messages: tuple[dict[str, str], ...]
    horizons: tuple[Horizon, ...] | None = None  # None: the run's horizons for its mode

    @property
    def mode(self) -> Mode:
        roles = [m["role"] for m in self.messages]
        return "follow" if roles[-2:] == ["assistant", "user"] else "generate"

    @property
    def context(self) -> list[dict[str, str]]:
        """The messages before the reply that is planned."""
        return list(self.messages[:-2] if self.mode == "follow" else self.messages)


def default_path() -> Path:
    """The default set shipped in the package."""
    return Path(str(resources.files("bench.eval").joinpath("prompts.jsonl")))


def parse_horizons(value: Any, where: str) -> tuple[Horizon, ...]:
    """Horizon names from a list or a comma-separated string; unknown ones are an error."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise PromptError(f"{where}: horizons must be a non-empty list or comma-separated string")
    out: list[Horizon] = []
    for name in (str(n).strip() for n in names):
        if name not in get_args(Horizon):
            raise PromptError(
                f"{where}: unknown horizon '{name}' (known: {', '.join(HORIZON_ORDER)})"
            )
        out.append(name)  # type: ignore[arg-type]
    return tuple(h for h in HORIZON_ORDER if h in out)


def _prompt(data: Any, where: str) -> EvalPrompt:
    if not isinstance(data, dict):
        raise PromptError(f"{where}: expected a JSON object")
    unknown = set(data) - {"id", "kind", "prompt", "messages", "horizons"}
    if unknown:
        raise PromptError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if ("prompt" in data) == ("messages" in data):
        raise PromptError(f"{where}: give exactly one of 'prompt' and 'messages'")
    messages = data.get("messages") or [{"role": "user", "content": data.get("prompt")}]
    if not isinstance(messages, list):
        raise PromptError(f"{where}: 'messages' must be a list")
    for m in messages:
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise PromptError(f"{where}: each message needs a role in {', '.join(ROLES)}")
        if not isinstance(m.get("content"), str) or not m["content"].strip():
            raise PromptError(f"{where}: each message needs non-empty text content")
    roles = [m["role"] for m in messages]
    if roles[-1] != "user":
        raise PromptError(f"{where}: the last message must be the user's")
    horizons = parse_horizons(data["horizons"], where) if "horizons" in data else None
    prompt = EvalPrompt(
        id=str(data.get("id", "")),
        kind=str(data.get("kind", "other")),
        messages=tuple({"role": m["role"], "content": m["content"]} for m in messages),
        horizons=horizons,
    )
    if horizons and "user" in horizons and prompt.mode != "follow":
        raise PromptError(
            f"{where}: the 'user' horizon needs a given assistant reply followed by the "
            "user's real next message"
        )
    return prompt


def load_prompts(path: str | Path) -> list[EvalPrompt]:
    """Every conversation of a JSONL file; blank lines and lines starting with # are skipped.

    Ids default to ``line-N`` and must be unique (a resumed run finds its rows by id).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PromptError(f"cannot read the prompts file {path}: {exc.strerror or exc}") from None
    prompts: list[EvalPrompt] = []
    seen: set[str] = set()
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PromptError(f"{where}: not valid JSON ({exc.msg})") from None
        prompt = _prompt(data, where)
        if not prompt.id:
            prompt = EvalPrompt(f"line-{number}", prompt.kind, prompt.messages, prompt.horizons)
        if prompt.id in seen:
            raise PromptError(f"{where}: the id '{prompt.id}' is used twice")
        seen.add(prompt.id)
        prompts.append(prompt)
    if not prompts:
        raise PromptError(f"{path}: no prompts in the file")
    return prompts
