"""``foresight chat``: a terminal chat that streams each reply beside its live plan.

Needs ``rich`` (``pip install 'foresight-client[cli]'``); the rest of the SDK does not.
"""

from foresight_client.terminal._app import ChatSession, run_chat
from foresight_client.terminal._view import TurnView

__all__ = ["ChatSession", "TurnView", "run_chat"]
