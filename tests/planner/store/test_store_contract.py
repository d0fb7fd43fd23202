"""The PlanStore contract, run against every backend (SQLite file, real Redis server)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from store_records import make_record

from planner.errors import StoreError
from planner.store import PlanStore, RedisPlanStore, SQLitePlanStore

StoreFactory = Callable[..., PlanStore]


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """Opens stores on one fresh backend namespace; every store made shares it."""
    url = request.getfixturevalue("redis_server").url if request.param == "redis" else None
    prefix = f"test-{uuid.uuid4().hex[:8]}"  # a fresh namespace on the shared Redis
    opened: list[PlanStore] = []

    def make(ttl_seconds: float | None = 600.0) -> PlanStore:
        store: PlanStore
        if url is None:
            store = SQLitePlanStore(tmp_path / "plans.db", ttl_seconds=ttl_seconds)
        else:
            store = RedisPlanStore(url, ttl_seconds=ttl_seconds, prefix=prefix)
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()


@pytest.fixture
def store(make_store: StoreFactory) -> PlanStore:
    return make_store()


async def test_round_trip_is_exact(store: PlanStore) -> None:
    assert isinstance(store, PlanStore)
    record = make_record("p1", next_turn={"score": 0.125, "why": ["a", None, 3]})
    await store.put(record)
    got = await store.get("p1")
    assert got == record
    assert got is not None and got.model_dump_json() == record.model_dump_json()
    assert await store.get("missing") is None


async def test_put_replaces_and_moves_indexes(store: PlanStore) -> None:
    await store.put(make_record("p1", conversation="c1", turn_key="t1", created=10.0))
    new = make_record("p1", conversation="c2", turn_key="t2", created=10.0, salt=7)
    await store.put(new)
    assert await store.get("p1") == new
    assert await store.list("c1") == []
    assert await store.find_turn("t1") == []
    assert await store.list("c2") == [new]
    assert await store.find_turn("t2") == [new]


async def test_records_without_keys(store: PlanStore) -> None:
    record = make_record("solo", conversation=None, turn_key=None)
    await store.put(record)
    assert await store.get("solo") == record


async def test_delete(store: PlanStore) -> None:
    await store.put(make_record("p1", conversation="c"))
    assert await store.delete("p1") is True
    assert await store.delete("p1") is False
    assert await store.get("p1") is None
    assert await store.list("c") == []


async def test_list_newest_first_with_limit(store: PlanStore) -> None:
    for plan_id, created in [("b", 2.0), ("d", 4.0), ("a", 1.0), ("c", 3.0)]:
        await store.put(make_record(plan_id, conversation="c", created=created))
    # Equal `created`: the later first insertion comes first, and a replace keeps its place.
    await store.put(make_record("z-tie-first", conversation="c", created=5.0))
    await store.put(make_record("a-tie-second", conversation="c", created=5.0))
    await store.put(make_record("z-tie-first", conversation="c", created=5.0, salt=1))
    await store.put(make_record("other", conversation="elsewhere", created=9.0))

    ids = [r.id for r in await store.list("c")]
    assert ids == ["a-tie-second", "z-tie-first", "d", "c", "b", "a"]
    assert [r.id for r in await store.list("c", limit=2)] == ["a-tie-second", "z-tie-first"]
    assert [r.id for r in await store.list("c", limit=3)] == ["a-tie-second", "z-tie-first", "d"]
    assert await store.list("c", limit=0) == []
    assert await store.list("nobody") == []


async def test_find_turn_across_conversations(store: PlanStore) -> None:
    await store.put(make_record("old", conversation="c1", turn_key="t", created=1.0))
    await store.put(make_record("new", conversation="c2", turn_key="t", created=2.0))
    await store.put(make_record("else", conversation="c1", turn_key="u", created=3.0))
    assert [r.id for r in await store.find_turn("t")] == ["new", "old"]
    assert await store.find_turn("none") == []


async def test_update_next_turn_changes_only_that_field(store: PlanStore) -> None:
    record = make_record("p1")
    await store.put(record)
    assert await store.update_next_turn("p1", {"log_score": -1.5, "top1": False}) is True
    got = await store.get("p1")
    assert got == record.model_copy(update={"next_turn": {"log_score": -1.5, "top1": False}})
    assert await store.update_next_turn("missing", {"x": 1}) is False
    with pytest.raises(ValueError):
        await store.update_next_turn("p1", {"bad": object()})


async def test_concurrent_updates_to_one_plan_all_apply(store: PlanStore) -> None:
    await store.put(make_record("p1"))
    results = await asyncio.gather(*(store.update_next_turn("p1", {"n": i}) for i in range(20)))
    assert all(results)
    got = await store.get("p1")
    assert got is not None and got.next_turn is not None and got.next_turn["n"] in range(20)


async def test_ttl_counts_from_last_write(make_store: StoreFactory) -> None:
    store = make_store(ttl_seconds=1.0)
    start = time.monotonic()
    await store.put(make_record("a", conversation="c", turn_key="t", created=1.0))
    await store.put(make_record("b", conversation="c", turn_key="t", created=2.0))
    await asyncio.sleep(0.6 - (time.monotonic() - start))
    assert await store.update_next_turn("b", {"kept": True})  # b now lives to ~1.6 s
    await asyncio.sleep(1.3 - (time.monotonic() - start))
    assert await store.get("a") is None
    assert [r.id for r in await store.list("c")] == ["b"]
    await asyncio.sleep(1.9 - (time.monotonic() - start))
    assert await store.get("b") is None
    assert await store.list("c") == []
    assert await store.find_turn("t") == []
    assert await store.update_next_turn("b", {}) is False
    assert await store.delete("b") is False


async def test_concurrent_puts_all_land(store: PlanStore) -> None:
    records = [make_record(f"p{i}", conversation="busy", created=1000.0 + i) for i in range(50)]
    await asyncio.gather(*(store.put(r) for r in records))
    listed = await store.list("busy", limit=100)
    assert [r.id for r in listed] == [r.id for r in reversed(records)]
    assert listed == list(reversed(records))


async def test_ping_and_close(make_store: StoreFactory) -> None:
    store = make_store()
    await store.ping()
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.get("p1")
    with pytest.raises(StoreError):
        await store.ping()


async def test_add_inserts_only_when_the_id_is_free(store: PlanStore) -> None:
    first = make_record("p1", conversation="c1", turn_key="t1")
    assert await store.add(first)
    assert not await store.add(make_record("p1", conversation="c2", salt=3))
    assert await store.get("p1") == first
    assert [r.id for r in await store.list("c1")] == ["p1"]
    assert await store.list("c2") == []


async def test_of_concurrent_adds_of_one_id_exactly_one_wins(make_store: StoreFactory) -> None:
    # Separate store objects (connections), as two server processes would have.
    stores = [make_store() for _ in range(4)]
    records = [make_record("claimed", salt=i) for i in range(8)]
    won = await asyncio.gather(*(stores[i % 4].add(r) for i, r in enumerate(records)))
    assert sum(won) == 1
    winner = records[won.index(True)]
    assert await stores[0].get("claimed") == winner


async def test_add_reuses_the_id_of_an_expired_record(make_store: StoreFactory) -> None:
    store = make_store(ttl_seconds=0.2)
    assert await store.add(make_record("p1"))
    await asyncio.sleep(0.4)
    fresh = make_record("p1", salt=9)
    assert await store.add(fresh)
    assert await store.get("p1") == fresh


async def test_the_owner_is_kept_through_every_write_and_read(store: PlanStore) -> None:
    mine = make_record("mine", conversation="c", turn_key="t", created=2.0, owner="a" * 16)
    local = make_record("local", conversation="c", turn_key="t", created=1.0)
    assert await store.add(mine)
    await store.put(local)
    assert await store.update_next_turn("mine", {"seen": True})
    got = await store.get("mine")
    assert got is not None and got.owner == "a" * 16 and got.next_turn == {"seen": True}
    assert [(r.id, r.owner) for r in await store.list("c")] == [
        ("mine", "a" * 16),
        ("local", None),
    ]
    assert [r.owner for r in await store.find_turn("t")] == ["a" * 16, None]


async def test_delete_owned_removes_only_the_owners_record(store: PlanStore) -> None:
    await store.put(make_record("theirs", owner="a" * 16))
    await store.put(make_record("local"))
    assert not await store.delete_owned("theirs", "b" * 16)
    assert not await store.delete_owned("theirs", None)
    assert not await store.delete_owned("local", "a" * 16)
    assert await store.get("theirs") is not None and await store.get("local") is not None
    assert await store.delete_owned("theirs", "a" * 16)
    assert await store.delete_owned("local", None)
    assert await store.get("theirs") is None and await store.get("local") is None
    assert await store.list("conv-a") == []  # the indexes let go of them too
    assert not await store.delete_owned("missing", None)
