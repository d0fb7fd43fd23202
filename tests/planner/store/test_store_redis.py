"""Redis store: shared between servers, index upkeep, and failing fast when Redis is down."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis_server import RedisServer
from store_records import make_record

from planner.errors import StoreError
from planner.store import RedisPlanStore

pytestmark = pytest.mark.redis


@pytest.fixture
async def raw(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}"


async def test_two_servers_share_plans(redis_server: RedisServer, prefix: str) -> None:
    a = RedisPlanStore(redis_server.url, prefix=prefix)
    b = RedisPlanStore(redis_server.url, prefix=prefix)
    other = RedisPlanStore(redis_server.url, prefix=prefix + "-other")
    try:
        record = make_record("shared", conversation="c", turn_key="t")
        await a.put(record)
        assert await b.get("shared") == record
        assert await b.list("c") == [record]
        assert await b.update_next_turn("shared", {"seen_by": "b"})
        got = await a.get("shared")
        assert got is not None and got.next_turn == {"seen_by": "b"}
        assert await other.get("shared") is None  # a different prefix is a different store
        assert await b.delete("shared")
        assert await a.get("shared") is None
    finally:
        for store in (a, b, other):
            await store.close()


async def test_keys_and_index_ttls(
    redis_server: RedisServer, raw: aioredis.Redis, prefix: str
) -> None:
    store = RedisPlanStore(redis_server.url, prefix=prefix, ttl_seconds=100)
    try:
        await store.put(make_record("p", conversation="c", turn_key="t", created=7.0))
        assert await raw.hget(f"{prefix}:plan:p", "record") is not None
        assert await raw.zscore(f"{prefix}:conv:c", "p") == 7.0
        assert await raw.zscore(f"{prefix}:turn:t", "p") == 7.0
        for key in (f"{prefix}:plan:p", f"{prefix}:conv:c", f"{prefix}:turn:t"):
            assert 99_000 < await raw.pttl(key) <= 100_000, key
    finally:
        await store.close()

    forever = RedisPlanStore(redis_server.url, prefix=prefix, ttl_seconds=None)
    try:
        await forever.put(make_record("p", conversation="c", turn_key="t"))
        assert await raw.pttl(f"{prefix}:plan:p") == -1  # no expiry
        assert await raw.pttl(f"{prefix}:conv:c") == -1
    finally:
        await forever.close()


async def test_a_record_written_before_tenancy_reads_as_unowned(
    redis_server: RedisServer, raw: aioredis.Redis, prefix: str
) -> None:
    """Keys are unchanged by tenancy (the owner lives in the record); an old hash whose
    record JSON has no ``owner`` is read, listed and found as the local server's."""
    record = make_record("old", conversation="c", turn_key="t", created=3.0)
    old_body = record.model_dump_json(exclude={"owner"})
    assert '"owner"' not in old_body
    await raw.hset(
        f"{prefix}:plan:old", mapping={"record": old_body, "seq": 1, "conv": "c", "turn": "t"}
    )
    await raw.zadd(f"{prefix}:conv:c", {"old": 3.0})
    await raw.zadd(f"{prefix}:turn:t", {"old": 3.0})
    store = RedisPlanStore(redis_server.url, prefix=prefix)
    try:
        got = await store.get("old")
        assert got == record and got is not None and got.owner is None
        assert await store.list("c") == [record]
        assert await store.find_turn("t") == [record]
        assert await store.update_next_turn("old", {"x": 1})
        assert not await store.delete_owned("old", "a" * 16)
        assert await store.delete_owned("old", None)
    finally:
        await store.close()


async def test_readers_drop_index_entries_of_expired_plans(
    redis_server: RedisServer, raw: aioredis.Redis, prefix: str
) -> None:
    store = RedisPlanStore(redis_server.url, prefix=prefix)
    try:
        await store.put(make_record("gone", conversation="c", turn_key="t", created=1.0))
        await store.put(make_record("kept", conversation="c", turn_key="t", created=2.0))
        await raw.delete(f"{prefix}:plan:gone")  # what expiry does to the body
        assert [r.id for r in await store.list("c")] == ["kept"]
        assert await raw.zrange(f"{prefix}:conv:c", 0, -1) == [b"kept"]
        assert [r.id for r in await store.find_turn("t")] == ["kept"]
        assert await raw.zrange(f"{prefix}:turn:t", 0, -1) == [b"kept"]
    finally:
        await store.close()


async def test_list_pages_through_large_indexes(redis_server: RedisServer, prefix: str) -> None:
    store = RedisPlanStore(redis_server.url, prefix=prefix)
    try:
        # More than one read page, with ties across the page boundary; ids sort against
        # insertion order, so Redis's own tie order (by member) would be wrong.
        for i in range(150):
            await store.put(make_record(f"p{999 - i}", conversation="c", created=float(i // 70)))
        listed = [r.id for r in await store.list("c", limit=75)]
        assert listed == [f"p{999 - i}" for i in range(149, 149 - 75, -1)]
    finally:
        await store.close()


async def test_redis_down_raises_store_error_quickly() -> None:
    server = RedisServer.start()
    store = RedisPlanStore(server.url, prefix="down")
    try:
        await store.put(make_record("p"))
        server.stop()
        calls = [lambda: store.put(make_record("q")), lambda: store.get("p"), store.ping]
        for call in calls:
            started = time.monotonic()
            with pytest.raises(StoreError, match=r"^plan store unavailable") as caught:
                await call()
            assert time.monotonic() - started < 20  # a 2 s timeout, not a hang
            assert str(server.port) not in caught.value.message
    finally:
        server.stop()
        await store.close()


async def test_stalled_redis_times_out() -> None:
    with RedisServer.start() as server:
        store = RedisPlanStore(server.url, prefix="stalled")
        try:
            await store.ping()
            os.kill(server.process.pid, signal.SIGSTOP)  # accepts nothing, answers nothing
            started = time.monotonic()
            with pytest.raises(StoreError, match="timed out"):
                await store.get("p")
            assert time.monotonic() - started < 20  # a 2 s timeout, not a hang
        finally:
            os.kill(server.process.pid, signal.SIGCONT)
            await store.close()


async def test_closed_port_is_refused() -> None:
    with RedisServer.start() as server:
        url = server.url  # a port that was just free and is now closed
    store = RedisPlanStore(url)
    try:
        with pytest.raises(StoreError, match="connection refused"):
            await store.ping()
    finally:
        await store.close()


def test_missing_redis_server_binary_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="not found on PATH"):
        RedisServer.start(binary="no-such-redis-server-binary")
