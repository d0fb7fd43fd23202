"""Foresight planner: lookahead rollouts, plan state and scoring. No HTTP here.

The face, for every caller outside the package (the server, the bench, tests of the API):

* ``Planner`` — check a plan request, claim its ids, score the previous turn, and run it
  (``Planner.begin`` → ``PlannedRequest.run`` per choice); analyse a given text; get, list
  and delete stored plans.
* the request: ``PlanRequest`` (a ``PlanConfig`` plus ``previous_id``), ``PlanLimits``,
  ``Horizon``.
* what a choice yields: ``TextDelta``, ``SnapshotReady``, ``ScoreReady``, ``ForkFound`` and,
  last, ``PlanStored`` with the ``PlanResult``.
* the plan as data (``planner.plan``): ``PlanResult``, ``Plan``, ``Snapshot``, ``Score``,
  ``Fork``, ``NextTurn`` and their parts.
* ``open_store`` / ``PlanStore``: where plans live.
* ``RolloutBudget``: rollout decode slots shared fairly by the plans of a process.

Errors are in ``planner.errors``; the engine interface and the vLLM adapter in
``planner.engine``. Everything else is internal.
"""

from planner.budget import RolloutBudget
from planner.config import (
    DEFAULT_HORIZONS,
    HORIZON_ORDER,
    Horizon,
    PlanConfig,
    PlanLimits,
    PlanRequest,
)
from planner.events import ChoiceEvent, ForkFound, PlanStored, ScoreReady, SnapshotReady, TextDelta
from planner.plan import (
    Candidate,
    Comparison,
    Fork,
    HorizonSnapshot,
    Implicit,
    ImplicitSummary,
    NextTurn,
    Plan,
    PlanResult,
    RolloutView,
    Score,
    Snapshot,
    Stats,
    TokensToEnd,
    TurnPrediction,
    Unit,
)
from planner.planned_request import PlannedRequest
from planner.service import Planner
from planner.store import DEFAULT_TTL_SECONDS, PlanStore, open_store

__all__ = [
    "DEFAULT_HORIZONS",
    "DEFAULT_TTL_SECONDS",
    "HORIZON_ORDER",
    "Candidate",
    "ChoiceEvent",
    "Comparison",
    "Fork",
    "ForkFound",
    "Horizon",
    "HorizonSnapshot",
    "Implicit",
    "ImplicitSummary",
    "NextTurn",
    "Plan",
    "PlanConfig",
    "PlanLimits",
    "PlanRequest",
    "PlanResult",
    "PlanStore",
    "PlanStored",
    "PlannedRequest",
    "Planner",
    "RolloutBudget",
    "RolloutView",
    "Score",
    "ScoreReady",
    "Snapshot",
    "SnapshotReady",
    "Stats",
    "TextDelta",
    "TokensToEnd",
    "TurnPrediction",
    "Unit",
    "open_store",
]
