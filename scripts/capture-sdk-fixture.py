"""Capture clients/python/tests/data/chat_with_plan.json from a real server: the second turn
of a planned conversation (so it carries previous_turn). Run after the plan's shape changes:

    PYTHONPATH=$PWD:$PWD/clients/python .venv/bin/python scripts/capture-sdk-fixture.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from live_server import LiveServer

OUT = Path(__file__).resolve().parent.parent / "clients/python/tests/data/chat_with_plan.json"
PLAN = {
    "horizons": ["sentence", "turn", "user"],
    "rollouts": 2,
    "refresh": 4,
    "max_lookahead_tokens": 24,
    "refresh_every": {},
    "include_rollouts": True,
}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        live = LiveServer(f"sqlite:///{tmp}/plans.db").start()
        try:
            with httpx.Client(base_url=live.url, timeout=600) as client:
                messages = [{"role": "user", "content": "Name a colour."}]
                body = {"model": live.config.engine.name, "max_tokens": 24, "seed": 7}
                first = client.post(
                    "/v1/chat/completions", json={**body, "messages": messages, "plan": PLAN}
                ).json()
                messages += [
                    {"role": "assistant", "content": first["choices"][0]["message"]["content"]},
                    {"role": "user", "content": "Another one?"},
                ]
                second = client.post(
                    "/v1/chat/completions", json={**body, "messages": messages, "plan": PLAN}
                )
                second.raise_for_status()
                if second.json()["choices"][0]["finish_reason"] != "stop":
                    raise SystemExit("the reply did not end within max_tokens: pick another seed")
                OUT.write_text(json.dumps(second.json(), indent=1) + "\n")
        finally:
            live.stop()


if __name__ == "__main__":
    main()
