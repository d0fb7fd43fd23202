"""Where plans live between requests: the PlanStore contract and its two backends.

``open_store(url, ttl_seconds=...)`` picks the backend from a URL: SQLite by default
(one file, no server), Redis for several servers sharing plans.
"""

from planner.store.base import DEFAULT_TTL_SECONDS, PlanStore, open_store
from planner.store.record import PlanRecord
from planner.store.redis import RedisPlanStore
from planner.store.sqlite import SQLitePlanStore

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "PlanRecord",
    "PlanStore",
    "RedisPlanStore",
    "SQLitePlanStore",
    "open_store",
]
