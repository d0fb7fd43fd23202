"""The plan store contract, shared helpers, and ``open_store`` (URL → backend).

Every backend keeps the same promises, checked by one contract test suite:

* ``put`` is an atomic insert-or-replace: readers see the old record or the new one,
  never a partial write, even if the writer is killed mid-write.
* ``add`` is an atomic insert-if-absent: of concurrent ``add`` calls for one id,
  exactly one succeeds (how a request claims a plan id before it starts).
* a record expires ``ttl_seconds`` after its last write (``put`` or ``update_next_turn``);
  expired records are invisible to every read.
* ``list`` and ``find_turn`` return newest first by ``created``; records with equal
  ``created`` come in reverse order of first insertion (the later one first), so the
  order is total and the same on every backend. Replacing a record keeps its place.
* every failure raises :class:`planner.errors.StoreError` whose message names the kind
  of failure only (no file paths, hosts or secrets).
"""

from __future__ import annotations

import builtins
import json
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlsplit

from planner.errors import StoreError
from planner.store.record import PlanRecord

DEFAULT_TTL_SECONDS: float = 7 * 24 * 3600.0
DEFAULT_DB_NAME = "plans.db"


@runtime_checkable
class PlanStore(Protocol):
    """Where plans live between requests. All methods are coroutines; see the module doc."""

    async def put(self, record: PlanRecord) -> None:
        """Insert or replace ``record`` (keyed by its plan id) atomically."""
        ...

    async def add(self, record: PlanRecord) -> bool:
        """Insert ``record`` only if no live record has its id; True if it was inserted.

        Atomic: of several concurrent ``add`` calls for one id, exactly one returns True.
        """
        ...

    async def get(self, plan_id: str) -> PlanRecord | None:
        """The live record with this id, or None if absent or expired."""
        ...

    async def delete(self, plan_id: str) -> bool:
        """Remove the record; True if a live one existed."""
        ...

    async def delete_owned(self, plan_id: str, owner: str | None) -> bool:
        """Remove the record only if ``owner`` owns it, atomically; True if it did."""
        ...

    async def list(self, conversation: str, limit: int = 100) -> builtins.list[PlanRecord]:
        """Up to ``limit`` live records of a conversation, newest first."""
        ...

    async def find_turn(self, turn_key: str) -> builtins.list[PlanRecord]:
        """All live records answering the messages hashed to ``turn_key``, newest first."""
        ...

    async def update_next_turn(self, plan_id: str, next_turn: dict[str, Any]) -> bool:
        """Set only the ``next_turn`` field, atomically; False if the record is gone."""
        ...

    async def ping(self) -> None:
        """Return if the store answers; raise StoreError otherwise."""
        ...

    async def close(self) -> None:
        """Release connections. Further calls raise StoreError."""
        ...


def check_ttl(ttl_seconds: float | None) -> float | None:
    """Validate a TTL: positive seconds, or None for records that never expire."""
    if ttl_seconds is not None and not ttl_seconds > 0:
        raise ValueError("ttl_seconds must be positive (or None for no expiry)")
    return ttl_seconds


def check_limit(limit: int) -> int:
    if limit < 0:
        raise ValueError("limit must be >= 0")
    return limit


def with_next_turn(body: str | bytes, next_turn: dict[str, Any]) -> str:
    """Return the stored JSON with only ``next_turn`` replaced.

    Works on the JSON tree rather than re-validating the whole plan: a large plan is
    not rebuilt for a small update, and every other field stays byte-for-byte the same
    in value. ``next_turn`` is checked to be JSON (a ValueError names the problem).
    """
    data = json.loads(body)
    try:
        data["next_turn"] = json.loads(json.dumps(next_turn, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"next_turn must be plain JSON data: {exc}") from exc
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def owner_of(body: str | bytes) -> str | None:
    """The owner in a stored body (None if it has none: unowned, or stored before owners)."""
    owner = json.loads(body).get("owner")
    return owner if isinstance(owner, str) else None


def parse_record(body: str | bytes) -> PlanRecord:
    """Parse a stored body; a body that no longer validates is a store failure."""
    try:
        return PlanRecord.model_validate_json(body)
    except ValueError as exc:
        raise StoreError("plan store holds an unreadable plan") from exc


def default_data_dir() -> Path:
    """``$FORESIGHT_DATA_DIR``, else ``~/.local/share/foresight`` (created on first use)."""
    env = os.environ.get("FORESIGHT_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".local" / "share" / "foresight"


def open_store(
    url: str | None,
    *,
    ttl_seconds: float | None = DEFAULT_TTL_SECONDS,
    data_dir: Path | None = None,
) -> PlanStore:
    """Open the store a URL names. Connects lazily: call ``ping()`` to check it answers.

    * ``None`` or ``sqlite://`` → ``<data_dir>/plans.db`` (``data_dir`` defaults to
      :func:`default_data_dir`; the directory is created on first use)
    * ``sqlite:///abs/path.db`` → the file ``/abs/path.db`` (``sqlite:////abs/...`` too)
    * ``redis://host:port/db`` (or ``rediss://``) → Redis; an optional ``?prefix=name``
      query sets the key prefix (default ``foresight``) so several deployments or
      test sessions can share one Redis.

    Any other URL raises ValueError.
    """
    check_ttl(ttl_seconds)
    if url is None or url == "sqlite://":
        from planner.store.sqlite import SQLitePlanStore

        path = (data_dir if data_dir is not None else default_data_dir()) / DEFAULT_DB_NAME
        return SQLitePlanStore(path, ttl_seconds=ttl_seconds)
    if url.startswith("sqlite://"):
        from planner.store.sqlite import SQLitePlanStore

        raw = url[len("sqlite://") :]
        if not raw.startswith("/"):
            raise ValueError("a sqlite store URL needs an absolute path: sqlite:///abs/path.db")
        # sqlite:////abs (the SQLAlchemy spelling) means the same file as sqlite:///abs.
        return SQLitePlanStore(Path("/" + raw.lstrip("/")), ttl_seconds=ttl_seconds)
    if url.startswith(("redis://", "rediss://")):
        from planner.store.redis import DEFAULT_PREFIX, RedisPlanStore

        parts = urlsplit(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        prefix = query.pop("prefix", [DEFAULT_PREFIX])[-1]
        if query:
            raise ValueError(f"unsupported redis store URL options: {', '.join(sorted(query))}")
        bare = parts._replace(query="").geturl()
        return RedisPlanStore(bare, ttl_seconds=ttl_seconds, prefix=prefix)
    raise ValueError("plan store URL must be sqlite://[/abs/path.db] or redis://host:port/db")
