"""SQLite store: restarts, kill -9 mid-write, schema migration, full disk, open_store URLs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from store_records import is_whole, make_record

from planner.errors import StoreError
from planner.store import RedisPlanStore, SQLitePlanStore, open_store
from planner.store.sqlite import SCHEMA_VERSION, migrate

REPO = Path(__file__).resolve().parents[3]
BIG = 200  # snapshots per plan in the kill test (~0.5 MB of JSON each)

# Loops puts of large plans forever. The records are built up front so that nearly all
# of the writer's time is spent inside put() (where a kill should land); ids repeat with
# alternating salts, so replaces are killed mid-write too and a torn one would show.
WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from store_records import make_record
    from planner.store.sqlite import SQLitePlanStore

    async def main(path, first):
        store = SQLitePlanStore(path, ttl_seconds=None)
        pool = [
            make_record(f"big-{k % 10}", conversation="kill", snapshots=SNAPSHOTS, salt=first + k)
            for k in range(20)
        ]
        i = 0
        while True:
            await store.put(pool[i % 20])
            i += 1
            if i == 3:
                print("writing", flush=True)

    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    """
).replace("SNAPSHOTS", str(BIG))


async def test_data_survives_reopening(tmp_path: Path) -> None:
    record = make_record("p1", next_turn={"a": 1})
    first = SQLitePlanStore(tmp_path / "plans.db")
    await first.put(record)
    await first.close()
    second = SQLitePlanStore(tmp_path / "plans.db")
    try:
        assert await second.get("p1") == record
        assert await second.list("conv-a") == [record]
    finally:
        await second.close()


async def test_kill_mid_write_leaves_only_whole_records(tmp_path: Path) -> None:
    db = tmp_path / "plans.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(Path(__file__).parent)])}
    for round_ in range(3):  # kill it several times at different points
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db), str(round_ * 1000)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
        )
        assert writer.stdout is not None
        with writer.stdout:
            assert writer.stdout.readline() == b"writing\n", "the writer did not start"
        time.sleep(0.05 + 0.1 * round_)
        os.kill(writer.pid, signal.SIGKILL)
        assert writer.wait(timeout=10) == -signal.SIGKILL

    with sqlite3.connect(db) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = [row[0] for row in raw.execute("SELECT id FROM plans")]
    raw.close()
    assert len(ids) >= 3
    store = SQLitePlanStore(db, ttl_seconds=None)
    try:
        for plan_id in ids:
            record = await store.get(plan_id)  # parses and validates the whole record
            assert record is not None and is_whole(record, BIG), plan_id
        assert len(await store.list("kill", limit=100)) == len(ids)
    finally:
        await store.close()


async def test_opening_a_v1_database_migrates_it(tmp_path: Path) -> None:
    """An old file keeps its records: the schema is migrated, and a body written before
    tenancy (no ``owner`` in its JSON) reads as an unowned record (the local server's)."""
    db = tmp_path / "plans.db"
    record = make_record("old", conversation="c", turn_key="t", created=5.0)
    old_body = record.model_dump_json(exclude={"owner"})
    assert '"owner"' not in old_body
    raw = sqlite3.connect(db, isolation_level=None)
    migrate(raw, target=1)
    raw.execute(
        "INSERT INTO plans (id, conversation, turn_key, created, expires, body)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        ("old", "c", "t", 5.0, time.time() + 600, old_body),
    )
    assert raw.execute("PRAGMA user_version").fetchone() == (1,)
    raw.close()

    store = SQLitePlanStore(db)
    try:
        got = await store.get("old")
        assert got == record and got is not None and got.owner is None
        assert await store.find_turn("t") == [record]
        assert await store.update_next_turn("old", {"x": 1})
    finally:
        await store.close()
    raw = sqlite3.connect(db)
    assert raw.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
    indexes = {row[1] for row in raw.execute("PRAGMA index_list(plans)")}
    assert {"plans_conversation", "plans_turn", "plans_expires"} <= indexes
    assert raw.execute("SELECT updated IS NOT NULL FROM plans").fetchone() == (1,)
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "plans.db"
    raw = sqlite3.connect(db)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    store = SQLitePlanStore(db)
    with pytest.raises(StoreError, match="newer"):
        await store.ping()
    await store.close()


async def test_full_disk_is_a_store_error(tmp_path: Path) -> None:
    store = SQLitePlanStore(tmp_path / "plans.db")
    try:
        await store.put(make_record("small"))

        def cap(conn: sqlite3.Connection) -> None:  # stand-in for a full disk
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages + 2}")

        await store._run(cap)
        with pytest.raises(StoreError, match=r"^plan store is full$"):
            await store.put(make_record("big", snapshots=BIG))
        assert await store.get("small") is not None  # the failed write left nothing behind
        assert await store.get("big") is None
    finally:
        await store.close()


async def test_errors_carry_no_paths(tmp_path: Path) -> None:
    blocker = tmp_path / "secret-dir-name"
    blocker.write_text("a file where the data directory should be")
    store = SQLitePlanStore(blocker / "plans.db")
    with pytest.raises(StoreError) as caught:
        await store.put(make_record("p"))
    assert "secret-dir-name" not in caught.value.message
    await store.close()

    (tmp_path / "garbage.db").write_bytes(b"not a database at all" * 100)
    store = SQLitePlanStore(tmp_path / "garbage.db")
    with pytest.raises(StoreError, match="damaged") as caught:
        await store.ping()
    assert str(tmp_path) not in caught.value.message
    await store.close()


async def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(None, ttl_seconds=60, data_dir=tmp_path / "data")
    assert isinstance(store, SQLitePlanStore) and store.path == tmp_path / "data" / "plans.db"
    await store.ping()  # creates the directory
    assert store.path.exists()
    await store.close()

    monkeypatch.setenv("FORESIGHT_DATA_DIR", str(tmp_path / "env"))
    store = open_store("sqlite://", ttl_seconds=None)
    assert isinstance(store, SQLitePlanStore) and store.path == tmp_path / "env" / "plans.db"
    assert store.ttl_seconds is None
    for url in (f"sqlite://{tmp_path}/x.db", f"sqlite:///{tmp_path}/x.db"):
        store = open_store(url, ttl_seconds=1)
        assert isinstance(store, SQLitePlanStore) and store.path == tmp_path / "x.db"

    store = open_store("redis://127.0.0.1:1/2?prefix=fs-a", ttl_seconds=60)
    assert isinstance(store, RedisPlanStore) and store.prefix == "fs-a"
    await store.close()

    for bad in ("mysql://x", "sqlite://relative.db", "redis://h:1/0?bogus=1", "plans.db"):
        with pytest.raises(ValueError):
            open_store(bad, ttl_seconds=60)
    with pytest.raises(ValueError):
        open_store(None, ttl_seconds=0)
