"""`foresight serve` options for auth, CORS, request caps, load and shutdown."""

from __future__ import annotations

import argparse
from typing import Any

from server.auth import load_keys
from server.config import PUBLIC_PATHS


def add_guard_args(serve: argparse.ArgumentParser) -> None:
    """Options of `foresight serve` for keys, CORS, request caps, load and shutdown."""
    sec = serve.add_argument_group("security")
    sec.add_argument(
        "--api-key", action="append",
        help="a key clients must send as 'Authorization: Bearer KEY' (repeatable; also "
        "$FORESIGHT_API_KEY); without any key the server is open",
    )  # fmt: skip
    sec.add_argument("--api-key-file", help="a file of keys, one per line")
    sec.add_argument(
        "--public-path", action="append",
        help="a path served without a key (repeatable; default /health, /ready, /metrics)",
    )  # fmt: skip
    sec.add_argument(
        "--cors-origin", action="append", help="an origin allowed by CORS (repeatable)"
    )
    lim = serve.add_argument_group("limits and load")
    lim.add_argument("--max-body-bytes", type=int, default=4 * 1024 * 1024)
    lim.add_argument("--max-messages", type=int, default=512, help="messages per chat request")
    lim.add_argument(
        "--max-message-chars", type=int, default=200_000, help="characters per message"
    )
    lim.add_argument("--max-tokens", type=int, help="largest max_tokens (default: the context)")
    lim.add_argument(
        "--max-running-cost", type=int, default=256,
        help="work admitted at once, in cost units: a plain request is n, a planned one "
        "n x (1 + rollouts x horizons)",
    )  # fmt: skip
    lim.add_argument(
        "--max-queued", type=int, default=64, help="requests waiting for room; more get a 429"
    )
    lim.add_argument(
        "--request-timeout", type=float, default=600.0,
        help="seconds a request may run (0: no limit)",
    )  # fmt: skip
    lim.add_argument(
        "--shutdown-grace", type=float, default=30.0,
        help="seconds in-flight requests get to finish after SIGTERM",
    )  # fmt: skip


def guard_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ServerConfig`` fields these options set (reads the key file: may raise OSError)."""
    return {
        "api_keys": load_keys(args.api_key, args.api_key_file),
        "public_paths": tuple(args.public_path) if args.public_path is not None else PUBLIC_PATHS,
        "cors_origins": tuple(args.cors_origin or ()),
        "max_body_bytes": args.max_body_bytes,
        "max_messages": args.max_messages,
        "max_message_chars": args.max_message_chars,
        "max_tokens": args.max_tokens,
        "max_running_cost": args.max_running_cost,
        "max_queued": args.max_queued,
        "request_timeout": args.request_timeout or None,
        "shutdown_grace": args.shutdown_grace,
    }
