"""``foresight-chat`` (also ``python -m foresight_client.terminal`` and ``foresight chat``):
the command line of the terminal chat."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from foresight_client.terminal._app import run_chat


def build_parser(prog: str = "foresight-chat") -> argparse.ArgumentParser:
    """The chat's options; every plan field left out takes the server's default."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Chat with a Foresight server in the terminal, each reply streamed "
        "beside its live plan. Type /quit or press Ctrl-D to leave.",
    )
    parser.add_argument("--base-url", help="server URL (default: $FORESIGHT_BASE_URL or :8000)")
    parser.add_argument("--api-key", help="the server's API key (default: $FORESIGHT_API_KEY)")
    parser.add_argument("--model", help="model name (default: the server's)")
    parser.add_argument("--rollouts", type=int, default=4, help="plan.rollouts")
    parser.add_argument(
        "--horizons", default="sentence,turn,user", help="plan.horizons (comma-separated)"
    )
    parser.add_argument("--max-tokens", type=int, default=128, help="longest reply in tokens")
    parser.add_argument(
        "--refresh", default="sentence", help="plan.refresh: sentence, token, or every N tokens"
    )
    parser.add_argument("--lookahead", type=int, help="plan.max_lookahead_tokens")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "foresight-chat") -> int:
    """Parse ``argv`` (else the process's arguments) and chat; returns the exit status."""
    args = build_parser(prog).parse_args(argv)
    # httpx logs each request at INFO; those lines would scribble over the live view.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    refresh: str | int = int(args.refresh) if args.refresh.isdigit() else args.refresh
    return run_chat(
        base_url=args.base_url,
        api_key=args.api_key,
        model=args.model,
        horizons=[h.strip() for h in args.horizons.split(",") if h.strip()],
        rollouts=args.rollouts,
        max_tokens=args.max_tokens,
        refresh=refresh,
        lookahead=args.lookahead,
    )
