"""Tenancy over HTTP: a plan, its conversation and its previous-turn lookup belong to the
API key that made them. Another key gets exactly what an unknown id gets (404), lists
nothing of it and never matches it; without keys everything is shared as before."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path
from typing import Any

import foresight_client as fc
import httpx
import pytest
from guarded_app import BASE_URL, PLANNED, guarded

from planner import PlanConfig
from planner.plan import Plan
from planner.store import PlanRecord
from planner.store.sqlite import migrate

KEYS = ("key-alice", "key-bob")
ALICE = {"authorization": "Bearer key-alice"}
BOB = {"authorization": "Bearer key-bob"}
MESSAGES = [{"role": "user", "content": " The cat"}]


async def _chat(http: httpx.AsyncClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    body = {**PLANNED, "messages": MESSAGES, **fields}
    r = await http.post("/v1/chat/completions", json=body, headers=headers)
    assert r.status_code == 200, r.text
    plan: dict[str, Any] = r.json()["choices"][0]["plan"]
    assert plan["stored"] is True
    return r.json()


def _plan(answer: dict[str, Any]) -> dict[str, Any]:
    plan: dict[str, Any] = answer["choices"][0]["plan"]
    return plan


def _next_turn(answer: dict[str, Any], user: str) -> list[dict[str, str]]:
    reply = answer["choices"][0]["message"]["content"]
    return [*MESSAGES, {"role": "assistant", "content": reply}, {"role": "user", "content": user}]


def _without_id(response: httpx.Response, plan_id: str) -> tuple[int, str]:
    """The status and body with the id blanked: what tells one missing plan from another."""
    return response.status_code, response.text.replace(plan_id, "ID")


async def test_another_key_cannot_read_or_delete_a_plan(tmp_path: Path) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        plan_id = _plan(await _chat(http, ALICE))["id"]
        unknown = "chatcmpl-plan-that-never-was"
        for method in ("GET", "DELETE"):
            theirs = await http.request(method, f"/v1/plans/{plan_id}", headers=BOB)
            missing = await http.request(method, f"/v1/plans/{unknown}", headers=BOB)
            print(method, "another tenant's plan:", theirs.status_code, theirs.json())
            assert theirs.status_code == 404
            assert _without_id(theirs, plan_id) == _without_id(missing, unknown)
        got = await http.get(f"/v1/plans/{plan_id}", headers=ALICE)
        assert got.status_code == 200  # Bob's DELETE left it in place
        assert "owner" not in got.json()  # the tenant is never shown
        assert (await http.delete(f"/v1/plans/{plan_id}", headers=ALICE)).status_code == 200
        assert (await http.get(f"/v1/plans/{plan_id}", headers=ALICE)).status_code == 404


async def test_same_messages_make_separate_conversations_per_key(tmp_path: Path) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        alice, bob = _plan(await _chat(http, ALICE)), _plan(await _chat(http, BOB))
        assert alice["conversation"] != bob["conversation"]
        for conversation, own, other in [
            (alice["conversation"], (ALICE, alice), (BOB, bob)),
            (bob["conversation"], (BOB, bob), (ALICE, alice)),
        ]:
            params = {"conversation": conversation}
            mine = (await http.get("/v1/plans", params=params, headers=own[0])).json()["data"]
            assert [p["id"] for p in mine] == [own[1]["id"]]
            seen = (await http.get("/v1/plans", params=params, headers=other[0])).json()
            assert seen["data"] == []


async def test_the_previous_turn_is_found_only_for_its_own_key(tmp_path: Path) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        first = await _chat(http, ALICE)
        messages = _next_turn(first, " No.")
        # Bob resends Alice's whole conversation: her plan is not his previous turn.
        bob = _plan(await _chat(http, BOB, messages=messages))
        assert bob["previous_turn"] is None
        assert (await http.get(f"/v1/plans/{_plan(first)['id']}", headers=ALICE)).json()[
            "next_turn"
        ] is None  # and her stored plan was not scored by his message
        alice = _plan(await _chat(http, ALICE, messages=messages))
        assert alice["previous_turn"]["plan_id"] == _plan(first)["id"]


async def test_previous_id_of_another_key_is_an_unknown_id(tmp_path: Path) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        first = await _chat(http, ALICE)
        messages = _next_turn(first, " No.")
        answers = []
        for previous_id in (_plan(first)["id"], "chatcmpl-unknown"):
            plan = {**PLANNED["plan"], "previous_id": previous_id}  # type: ignore[dict-item]
            body = {**PLANNED, "messages": messages, "plan": plan}
            r = await http.post("/v1/chat/completions", json=body, headers=BOB)
            print("previous_id", previous_id, "->", r.status_code, r.json())
            assert r.status_code == 404
            assert r.json()["error"]["param"] == "plan.previous_id"
            answers.append(_without_id(r, previous_id))
        assert answers[0] == answers[1]
        plan = {**PLANNED["plan"], "previous_id": _plan(first)["id"]}  # type: ignore[dict-item]
        body = {**PLANNED, "messages": messages, "plan": plan}
        r = await http.post("/v1/chat/completions", json=body, headers=ALICE)
        assert _plan(r.json())["previous_turn"]["plan_id"] == _plan(first)["id"]


async def test_a_plan_id_is_taken_for_every_key_and_reveals_nothing(tmp_path: Path) -> None:
    """Plan ids are one namespace: Bob cannot claim Alice's id, and his error is the one he
    gets for his own taken id, naming the id and nothing of her plan."""
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        plan = {**PLANNED["plan"], "id": "shared-name"}  # type: ignore[dict-item]
        alice = _plan(await _chat(http, ALICE, plan=plan))
        r = await http.post("/v1/chat/completions", json={**PLANNED, "plan": plan}, headers=BOB)
        print("Bob claims Alice's id:", r.status_code, r.json())
        assert r.status_code == 400 and r.json()["error"]["param"] == "plan.id"
        assert alice["text"] not in r.text and alice["conversation"] not in r.text
        again = await http.post(
            "/v1/chat/completions", json={**PLANNED, "plan": plan}, headers=ALICE
        )
        assert again.json() == r.json()
        assert (await http.get("/v1/plans/shared-name", headers=ALICE)).json()["text"] == (
            alice["text"]
        )


async def test_an_analysed_plan_belongs_to_its_key(tmp_path: Path) -> None:
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        reply = (await _chat(http, ALICE))["choices"][0]["message"]["content"]
        body = {
            "messages": MESSAGES,
            "assistant": reply,  # words the synthetic engine's vocabulary has
            "plan": {"rollouts": 2, "horizons": ["sentence"], "clustering": "text"},
        }
        r = await http.post("/v1/plans/analyze", json=body, headers=ALICE)
        assert r.status_code == 200, r.text
        plan_id = r.json()["plan"]["id"]
        assert (await http.get(f"/v1/plans/{plan_id}", headers=BOB)).status_code == 404
        assert (await http.get(f"/v1/plans/{plan_id}", headers=ALICE)).status_code == 200


async def test_plans_stored_before_tenancy_stay_local(tmp_path: Path) -> None:
    """A record written before owners existed (its JSON has no ``owner``) is the local
    server's: served without keys as always, and absent for every key."""
    record = PlanRecord(
        plan=Plan(id="old-plan", config=PlanConfig(), prompt_tokens=1, text="old", finished=True),
        conversation="conv-old",
        created=time.time(),
    )
    body = record.model_dump_json(exclude={"owner"})
    assert '"owner"' not in body
    with contextlib.closing(sqlite3.connect(tmp_path / "plans.db")) as db, db:
        migrate(db)
        db.execute(
            "INSERT INTO plans (id, conversation, created, updated, body) VALUES (?, ?, ?, ?, ?)",
            ("old-plan", "conv-old", record.created, record.created, body),
        )
    async with guarded(tmp_path, api_keys=KEYS) as (_, http, _engine):
        assert (await http.get("/v1/plans/old-plan", headers=ALICE)).status_code == 404
        listed = await http.get("/v1/plans", params={"conversation": "conv-old"}, headers=ALICE)
        assert listed.json()["data"] == []
    async with guarded(tmp_path) as (_, http, _engine):
        got = await http.get("/v1/plans/old-plan")
        assert got.status_code == 200 and got.json()["text"] == "old"
        listed = await http.get("/v1/plans", params={"conversation": "conv-old"})
        assert [p["id"] for p in listed.json()["data"]] == ["old-plan"]


async def test_without_keys_the_same_messages_share_a_conversation(tmp_path: Path) -> None:
    """Local use is unchanged: one conversation id for the same opening, as before."""
    async with guarded(tmp_path) as (_, http, _engine):
        first, second = _plan(await _chat(http, {})), _plan(await _chat(http, {}))
        assert first["conversation"] == second["conversation"]
        listed = await http.get("/v1/plans", params={"conversation": first["conversation"]})
        assert {p["id"] for p in listed.json()["data"]} == {first["id"], second["id"]}


async def test_the_sdk_sees_another_keys_plan_as_not_found(tmp_path: Path) -> None:
    """The SDK needs nothing new: its key is its tenant, and another key's plan raises the
    same ``NotFoundError`` (code ``plan_not_found``) as an unknown id."""
    async with guarded(tmp_path, api_keys=KEYS) as (app, http, _engine):
        plan_id = _plan(await _chat(http, ALICE))["id"]
        transport = httpx.ASGITransport(app=app)
        async with (
            fc.AsyncClient(base_url=BASE_URL, api_key="key-alice", transport=transport) as alice,
            fc.AsyncClient(base_url=BASE_URL, api_key="key-bob", transport=transport) as bob,
        ):
            assert (await alice.plans.get(plan_id)).id == plan_id
            for call in (bob.plans.get, bob.plans.delete):
                with pytest.raises(fc.NotFoundError) as caught:
                    await call(plan_id)
                assert caught.value.code == "plan_not_found"
            assert (await alice.plans.get(plan_id)).id == plan_id
