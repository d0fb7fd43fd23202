"""The default plan store: one SQLite file, no server needed.

Durability and consistency come from SQLite itself:

* WAL journal: readers never block the writer and never see a half-committed write; a
  process killed mid-transaction leaves uncommitted WAL frames that recovery ignores.
* ``synchronous=NORMAL``: in WAL mode this still keeps the database consistent after a
  process crash *or* power loss; it only skips the fsync on each commit, so a power
  loss (not a process kill) may drop the last few commits. Plans are a TTL-bounded
  record of work already delivered to the client, so losing seconds of them on power
  loss is an acceptable price for commits that do not wait on the disk.
* every write is one ``BEGIN IMMEDIATE`` transaction (it takes the write lock up front,
  which makes read-modify-write atomic even across processes sharing the file).

sqlite3 blocks, so each call runs in a worker thread (``asyncio.to_thread``) on the
store's single connection, serialised by a lock.
"""

from __future__ import annotations

import asyncio
import builtins
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from planner.errors import StoreError
from planner.store.base import (
    DEFAULT_TTL_SECONDS,
    check_limit,
    check_ttl,
    owner_of,
    parse_record,
    with_next_turn,
)
from planner.store.record import PlanRecord

T = TypeVar("T")
BUSY_TIMEOUT_MS = 5000
_LIVE = "(expires IS NULL OR expires > ?)"
_ORDER = "ORDER BY created DESC, rowid DESC"  # rowid: first-insertion order (upsert keeps it)
_INSERT_NEW = (
    "INSERT INTO plans (id, conversation, turn_key, created, updated, expires, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING"
)
_UPSERT = (
    "INSERT INTO plans (id, conversation, turn_key, created, updated, expires, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
    " conversation = excluded.conversation, turn_key = excluded.turn_key,"
    " created = excluded.created, updated = excluded.updated,"
    " expires = excluded.expires, body = excluded.body"
)  # an upsert, not INSERT OR REPLACE: that would delete the row and lose its rowid


def _v1_initial(conn: sqlite3.Connection) -> None:
    """The first schema: plans by id, found by conversation."""
    conn.execute(
        "CREATE TABLE plans (id TEXT PRIMARY KEY, conversation TEXT, turn_key TEXT,"
        " created REAL NOT NULL, expires REAL, body TEXT NOT NULL)"
    )
    conn.execute("CREATE INDEX plans_conversation ON plans (conversation, created)")


def _v2_updated_and_lookups(conn: sqlite3.Connection) -> None:
    """Record the last write (TTL counts from it) and index turn lookups and expiry purges."""
    conn.execute("ALTER TABLE plans ADD COLUMN updated REAL")
    conn.execute("UPDATE plans SET updated = created")
    conn.execute("CREATE INDEX plans_turn ON plans (turn_key, created)")
    conn.execute("CREATE INDEX plans_expires ON plans (expires)")


# Schema version N (``PRAGMA user_version``) means MIGRATIONS[:N] have been applied.
# Append only: never edit or reorder a released migration.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1_initial, _v2_updated_and_lookups]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> None:
    """Bring the schema to ``target`` in one transaction (all steps or none)."""
    conn.execute("BEGIN IMMEDIATE")  # concurrent openers wait, then see the new version
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreError("plan store was written by a newer Foresight (schema too new)")
        for step in MIGRATIONS[version:target]:
            step(conn)
        if version < target:
            conn.execute(f"PRAGMA user_version = {int(target)}")  # transactional in SQLite
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.rollback()
        raise


def _store_error(exc: sqlite3.Error) -> StoreError:
    """Map a sqlite3 error to a StoreError naming only the kind of failure."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == sqlite3.SQLITE_FULL or "database or disk is full" in str(exc):
        return StoreError("plan store is full")
    if primary in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return StoreError("plan store is busy")
    if primary == sqlite3.SQLITE_CANTOPEN:
        return StoreError("plan store unavailable: cannot open the database")
    if primary in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB):
        return StoreError("plan store unavailable: the database is damaged")
    # The error *name* (e.g. SQLITE_IOERR_WRITE) never carries paths, unlike some messages.
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    return StoreError(f"plan store unavailable: {name}")


class SQLitePlanStore:
    """A :class:`~planner.store.base.PlanStore` in one SQLite file (opened on first use)."""

    def __init__(
        self, path: Path | str, *, ttl_seconds: float | None = DEFAULT_TTL_SECONDS
    ) -> None:
        self.path = Path(path)
        self.ttl_seconds = check_ttl(ttl_seconds)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    # -- plumbing ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so every write is exactly
        # one transaction and single reads run in autocommit (a consistent snapshot).
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # used from worker threads, one at a time (the lock)
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")  # why: see the module docstring
            migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._closed:
                raise StoreError("plan store is closed")
            try:
                if self._conn is None:
                    self._conn = self._connect()
                return fn(self._conn)
            except sqlite3.Error as exc:
                raise _store_error(exc) from exc
            except OSError as exc:  # the data directory could not be created
                raise StoreError("plan store unavailable: cannot create its directory") from exc

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._call, fn)

    def _expires(self, now: float) -> float | None:
        return None if self.ttl_seconds is None else now + self.ttl_seconds

    async def _transaction(self, fn: Callable[[sqlite3.Connection, float], T]) -> T:
        """Run ``fn(conn, now)`` in one write transaction, after purging expired rows."""

        def run(conn: sqlite3.Connection) -> T:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Purging first (cheap: indexed on expires) also means a replaced expired
                # record counts as a new insertion, as it does in Redis.
                conn.execute("DELETE FROM plans WHERE expires <= ?", (now,))
                result = fn(conn, now)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already (disk full)
                    conn.rollback()
                raise
            return result

        return await self._run(run)

    def _select(self, where: str, args: tuple[Any, ...], limit: int = -1) -> list[PlanRecord]:
        sql = f"SELECT body FROM plans WHERE {where} AND {_LIVE} {_ORDER} LIMIT ?"

        def read(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute(sql, (*args, time.time(), limit))]

        return [parse_record(body) for body in self._call(read)]

    # -- the PlanStore API ----------------------------------------------------------------

    async def put(self, record: PlanRecord) -> None:
        body = record.model_dump_json()

        def upsert(conn: sqlite3.Connection, now: float) -> None:
            keys = (record.id, record.conversation, record.turn_key, record.created)
            conn.execute(_UPSERT, (*keys, now, self._expires(now), body))

        await self._transaction(upsert)

    async def add(self, record: PlanRecord) -> bool:
        body = record.model_dump_json()

        def insert(conn: sqlite3.Connection, now: float) -> bool:
            keys = (record.id, record.conversation, record.turn_key, record.created)
            return conn.execute(_INSERT_NEW, (*keys, now, self._expires(now), body)).rowcount > 0

        return await self._transaction(insert)

    async def get(self, plan_id: str) -> PlanRecord | None:
        records = await asyncio.to_thread(self._select, "id = ?", (plan_id,), 1)
        return records[0] if records else None

    async def delete(self, plan_id: str) -> bool:
        def delete(conn: sqlite3.Connection, now: float) -> bool:
            return conn.execute("DELETE FROM plans WHERE id = ?", (plan_id,)).rowcount > 0

        return await self._transaction(delete)

    async def delete_owned(self, plan_id: str, owner: str | None) -> bool:
        def delete(conn: sqlite3.Connection, now: float) -> bool:
            row = conn.execute("SELECT body FROM plans WHERE id = ?", (plan_id,)).fetchone()
            if row is None or owner_of(row[0]) != owner:
                return False
            return conn.execute("DELETE FROM plans WHERE id = ?", (plan_id,)).rowcount > 0

        return await self._transaction(delete)

    async def list(self, conversation: str, limit: int = 100) -> builtins.list[PlanRecord]:
        return await asyncio.to_thread(
            self._select, "conversation = ?", (conversation,), check_limit(limit)
        )

    async def find_turn(self, turn_key: str) -> builtins.list[PlanRecord]:
        return await asyncio.to_thread(self._select, "turn_key = ?", (turn_key,))

    async def update_next_turn(self, plan_id: str, next_turn: dict[str, Any]) -> bool:
        def update(conn: sqlite3.Connection, now: float) -> bool:
            row = conn.execute("SELECT body FROM plans WHERE id = ?", (plan_id,)).fetchone()
            if row is None:  # absent, or expired and just purged
                return False
            conn.execute(
                "UPDATE plans SET body = ?, updated = ?, expires = ? WHERE id = ?",
                (with_next_turn(row[0], next_turn), now, self._expires(now), plan_id),
            )
            return True

        return await self._transaction(update)

    async def ping(self) -> None:
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        def close() -> None:
            with self._lock:
                self._closed = True
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(close)
