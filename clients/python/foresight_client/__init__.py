"""Python client for Foresight: typed plans over the OpenAI-compatible API.

    from foresight_client import Client

    with Client() as client:                       # $FORESIGHT_BASE_URL or 127.0.0.1:8000
        reply = client.chat([{"role": "user", "content": "Hi"}], plan=True, max_tokens=32)
        print(reply.text, reply.plan.comparison)

Only the names in ``__all__`` are public; the ``_modules`` behind them may change.
"""

from foresight_client._async_client import AsyncClient, AsyncPlans
from foresight_client._client import Client, Plans
from foresight_client._events import (
    ForkEvent,
    PlanEvent,
    ScoreEvent,
    SnapshotEvent,
    StreamEvent,
    TextDelta,
    UsageEvent,
)
from foresight_client._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForesightError,
    InternalServerError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
)
from foresight_client._models import (
    ChatChoice,
    ChatCompletion,
    ChatMessage,
    Completion,
    CompletionChoice,
    Health,
    ModelCard,
    PlanDeleted,
    PlanOptions,
    Usage,
)
from foresight_client._plan import (
    Fork,
    ImplicitSummary,
    NextTurn,
    Plan,
    PlanConfig,
    PlanStats,
    TurnPrediction,
)
from foresight_client._scores import Comparison, ReliabilityBin, Score
from foresight_client._snapshot import (
    Candidate,
    Consensus,
    ConsensusTerm,
    HorizonSnapshot,
    Implicit,
    RolloutView,
    Snapshot,
    TokensToEnd,
    Unit,
)
from foresight_client._streaming import AsyncChatStream, ChatStream
from foresight_client._tables import ROW_FIELDS, PlanRow, plan_rows, plan_to_json
from foresight_client._version import __version__

__all__ = [
    "ROW_FIELDS",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APITimeoutError",
    "AsyncChatStream",
    "AsyncClient",
    "AsyncPlans",
    "AuthenticationError",
    "BadRequestError",
    "Candidate",
    "ChatChoice",
    "ChatCompletion",
    "ChatMessage",
    "ChatStream",
    "Client",
    "Comparison",
    "Completion",
    "CompletionChoice",
    "ConflictError",
    "Consensus",
    "ConsensusTerm",
    "ForesightError",
    "Fork",
    "ForkEvent",
    "Health",
    "HorizonSnapshot",
    "Implicit",
    "ImplicitSummary",
    "InternalServerError",
    "ModelCard",
    "NextTurn",
    "NotFoundError",
    "OverloadedError",
    "PermissionDeniedError",
    "Plan",
    "PlanConfig",
    "PlanDeleted",
    "PlanEvent",
    "PlanOptions",
    "PlanRow",
    "PlanStats",
    "Plans",
    "RateLimitError",
    "ReliabilityBin",
    "RolloutView",
    "Score",
    "ScoreEvent",
    "Snapshot",
    "SnapshotEvent",
    "StreamEvent",
    "TextDelta",
    "TokensToEnd",
    "TurnPrediction",
    "Unit",
    "Usage",
    "UsageEvent",
    "__version__",
    "plan_rows",
    "plan_to_json",
]
