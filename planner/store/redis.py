"""The plan store on Redis, for several servers sharing plans.

Keys (``{p}`` is the configurable prefix, default ``foresight``):

* ``{p}:plan:{id}`` — a hash: ``record`` (the PlanRecord JSON), ``seq`` (first-insertion
  order, the tie-break for equal ``created``), ``conv`` and ``turn`` (the index entries
  this record owns, so a replace can move it without parsing the old JSON). It expires
  ``ttl_seconds`` after each write.
* ``{p}:conv:{conversation}`` and ``{p}:turn:{turn_key}`` — sorted sets of plan ids,
  score = ``created``. Their TTL is renewed on every write to a member, so an index
  outlives all its members; readers drop members whose plan expired.

Each write is one MULTI/EXEC transaction, with WATCH on the plan key so that a
concurrent write to the same plan makes it retry rather than interleave.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import random
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar, cast

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, RedisError, ResponseError, WatchError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

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
DEFAULT_PREFIX = "foresight"
SOCKET_TIMEOUT = 2.0  # a dead or stalled Redis fails a request in seconds, never hangs it
WATCH_RETRIES = 32  # optimistic: each conflict round has one winner; contention is rare
_PAGE = 64

# Remove index members whose plan key is gone, checked atomically per member, so a plan
# re-put between our read and this cleanup keeps its index entry.
_DROP_DEAD = """
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    removed = removed + redis.call('ZREM', KEYS[1], ARGV[i - 1])
  end
end
return removed
"""


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Turn client errors into StoreError messages without hosts, ports or passwords."""
    try:
        yield
    except StoreError:
        raise
    except AuthenticationError as exc:
        raise StoreError("plan store unavailable: authentication failed") from exc
    except (RedisConnectionError, ConnectionError) as exc:
        cause = exc.__cause__ or exc.__context__  # the OS error; its text varies by layer
        refused = isinstance(cause, ConnectionRefusedError) or "refused" in str(exc).lower()
        reason = "connection refused" if refused else "connection failed"
        raise StoreError(f"plan store unavailable: {reason}") from exc
    except (RedisTimeoutError, TimeoutError) as exc:  # builtin TimeoutError = asyncio's
        raise StoreError("plan store unavailable: timed out") from exc
    except ResponseError as exc:
        if str(exc).startswith("OOM"):
            raise StoreError("plan store is full") from exc
        raise StoreError(f"plan store unavailable: {type(exc).__name__}") from exc
    except (RedisError, OSError) as exc:
        raise StoreError(f"plan store unavailable: {type(exc).__name__}") from exc


class RedisPlanStore:
    """A :class:`~planner.store.base.PlanStore` on Redis (connects on first use)."""

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: float | None = DEFAULT_TTL_SECONDS,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        self.ttl_seconds = check_ttl(ttl_seconds)
        self.prefix = prefix
        self._redis = aioredis.Redis.from_url(
            url,
            socket_timeout=SOCKET_TIMEOUT,
            socket_connect_timeout=SOCKET_TIMEOUT,
            # One immediate retry on a broken connection: a pooled socket may be stale
            # after a Redis restart. Timeouts are not retried (that would double them).
            retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        )
        self._drop_dead = self._redis.register_script(_DROP_DEAD)
        self._closed = False

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:{kind}:{name}"

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("plan store is closed")

    def _expire(self, pipe: Any, key: str) -> None:
        if self.ttl_seconds is None:
            pipe.persist(key)
        else:
            pipe.pexpire(key, max(1, round(self.ttl_seconds * 1000)))

    async def _transact(self, key: str, body: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``body(pipe)`` with ``key`` watched, retrying while others write that key.

        ``body`` reads through the pipe (immediate while watching), calls ``pipe.multi()``,
        queues its writes, and returns a value; the queued writes are executed here.
        """
        self._check_open()
        with _translated():
            for attempt in range(WATCH_RETRIES):
                async with self._redis.pipeline(transaction=True) as pipe:
                    try:
                        await pipe.watch(key)
                        result = await body(pipe)
                        if pipe.explicit_transaction:
                            await pipe.execute()
                        return result
                    except WatchError:
                        pass
                # Jittered backoff, so writers that collided do not collide again in step.
                await asyncio.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise StoreError("plan store is busy: too many concurrent writes to one plan")

    # -- writes -----------------------------------------------------------------------

    async def put(self, record: PlanRecord) -> None:
        await self._write(record, replace=True)

    async def add(self, record: PlanRecord) -> bool:
        return await self._write(record, replace=False)

    async def _write(self, record: PlanRecord, *, replace: bool) -> bool:
        """Write ``record`` (only if its id is free unless ``replace``); True if written."""
        key = self._key("plan", record.id)
        body = record.model_dump_json()
        self._check_open()
        with _translated():
            seq = await self._redis.incr(self._key("meta", "seq"))  # gaps are harmless

        async def write(pipe: Any) -> bool:
            old_body, old_conv, old_turn = await pipe.hmget(key, "record", "conv", "turn")
            if old_body is not None and not replace:
                return False  # watched: a concurrent add of this id makes one of us retry
            pipe.multi()
            for kind, old, new in (
                ("conv", old_conv, record.conversation),
                ("turn", old_turn, record.turn_key),
            ):
                if old is not None and old.decode() != new:
                    pipe.zrem(self._key(kind, old.decode()), record.id)
                if new is None:
                    pipe.hdel(key, kind)
                else:
                    pipe.hset(key, kind, new)
                    pipe.zadd(self._key(kind, new), {record.id: record.created})
                    self._expire(pipe, self._key(kind, new))
            pipe.hsetnx(key, "seq", seq)  # a replace keeps its first-insertion place
            pipe.hset(key, "record", body)
            self._expire(pipe, key)
            return True

        return await self._transact(key, write)

    async def delete(self, plan_id: str) -> bool:
        return await self._delete(plan_id, check_owner=False, owner=None)

    async def delete_owned(self, plan_id: str, owner: str | None) -> bool:
        return await self._delete(plan_id, check_owner=True, owner=owner)

    async def _delete(self, plan_id: str, *, check_owner: bool, owner: str | None) -> bool:
        key = self._key("plan", plan_id)

        async def remove(pipe: Any) -> bool:
            body, conv, turn = await pipe.hmget(key, "record", "conv", "turn")
            if body is None or (check_owner and owner_of(body) != owner):
                return False
            pipe.multi()
            pipe.delete(key)
            if conv is not None:
                pipe.zrem(self._key("conv", conv.decode()), plan_id)
            if turn is not None:
                pipe.zrem(self._key("turn", turn.decode()), plan_id)
            return True

        return await self._transact(key, remove)

    async def update_next_turn(self, plan_id: str, next_turn: dict[str, Any]) -> bool:
        key = self._key("plan", plan_id)

        async def update(pipe: Any) -> bool:
            body, conv, turn = await pipe.hmget(key, "record", "conv", "turn")
            if body is None:
                return False
            new_body = with_next_turn(body, next_turn)
            pipe.multi()
            pipe.hset(key, "record", new_body)
            self._expire(pipe, key)
            if conv is not None:
                self._expire(pipe, self._key("conv", conv.decode()))
            if turn is not None:
                self._expire(pipe, self._key("turn", turn.decode()))
            return True

        return await self._transact(key, update)

    # -- reads ------------------------------------------------------------------------

    async def get(self, plan_id: str) -> PlanRecord | None:
        self._check_open()
        with _translated():
            body = await self._redis.hget(self._key("plan", plan_id), "record")
        return None if body is None else parse_record(body)

    async def list(self, conversation: str, limit: int = 100) -> builtins.list[PlanRecord]:
        if check_limit(limit) == 0:
            return []
        return await self._ranked("conv", conversation, limit)

    async def find_turn(self, turn_key: str) -> builtins.list[PlanRecord]:
        return await self._ranked("turn", turn_key, None)

    async def _ranked(self, kind: str, name: str, limit: int | None) -> builtins.list[PlanRecord]:
        """Live members of an index, newest first (ties: later first insertion first).

        Ranks on the small fields first (score, ``seq``, owner) and fetches the large
        bodies only for the records returned.
        """
        self._check_open()
        index = self._key(kind, name)
        ranked: list[tuple[float, int, str]] = []
        dead: list[bytes] = []
        with _translated():
            start = 0
            while True:
                page = self._redis.zrevrange(index, start, start + _PAGE - 1, withscores=True)
                members = cast("list[tuple[bytes, float]]", await page)
                if not members:
                    break
                start += len(members)
                async with self._redis.pipeline(transaction=False) as pipe:
                    for member, _ in members:
                        pipe.hmget(self._key("plan", member.decode()), "seq", kind)
                    rows = await pipe.execute()
                for (member, score), (seq, owner) in zip(members, rows, strict=True):
                    if seq is None:  # the plan expired (or was deleted)
                        dead.append(member)
                    elif owner == name.encode():  # else it moved; its put unindexes it
                        ranked.append((score, int(seq), member.decode()))
                ranked.sort(reverse=True)
                # Stop once no unread member can tie with the limit-th record.
                if (
                    limit is not None
                    and len(ranked) >= limit
                    and members[-1][1] < ranked[limit - 1][0]
                ):
                    break
            if dead:
                keys = [index, *(self._key("plan", m.decode()) for m in dead)]
                await self._drop_dead(keys=keys, args=dead)
            chosen = [plan_id for _, _, plan_id in ranked[:limit]]
            async with self._redis.pipeline(transaction=False) as pipe:
                for plan_id in chosen:
                    pipe.hget(self._key("plan", plan_id), "record")
                bodies = await pipe.execute() if chosen else []
        # A body that expired since ranking is simply left out.
        return [parse_record(body) for body in bodies if body is not None]

    # -- lifecycle --------------------------------------------------------------------

    async def ping(self) -> None:
        self._check_open()
        with _translated():
            await self._redis.ping()

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._redis.aclose()
