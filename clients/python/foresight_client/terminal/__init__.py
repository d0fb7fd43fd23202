"""The terminal chat: each reply streamed beside its live plan.

Run it as ``foresight-chat`` or ``python -m foresight_client.terminal`` (the server's
``foresight chat`` is the same program). Needs ``rich``: ``pip install 'foresight-client[cli]'``;
the rest of the SDK does not.
"""

try:
    import rich  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError("the terminal chat needs rich: pip install 'foresight-client[cli]'") from exc

from foresight_client.terminal._app import ChatSession, run_chat
from foresight_client.terminal._cli import main
from foresight_client.terminal._view import TurnView

__all__ = ["ChatSession", "TurnView", "main", "run_chat"]
