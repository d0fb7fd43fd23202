"""Stored plans, Analyse and errors in a real browser against the real server: what the page
shows for a snapshot is what the API says, and the server's errors reach the person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from explorer_page import (
    api_candidates,
    fill_plan,
    map_text,
    screenshot,
    set_horizons,
    shown_candidates,
)
from live_server import LiveServer
from playwright.sync_api import Page

PLAN = {
    "horizons": ["sentence", "turn"],
    "rollouts": 2,
    "refresh": 6,
    "refresh_every": {},  # every horizon at every refresh: each snapshot has them all
    "max_lookahead_tokens": 32,
}


@pytest.fixture(scope="module")
def stored(live: LiveServer, model: str) -> list[dict[str, Any]]:
    """Two plans of one conversation (n=2), made through the API."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Describe a dog in two sentences."}],
        "max_tokens": 30,
        "n": 2,
        "seed": 11,
        "plan": PLAN,
    }
    response = httpx.post(f"{live.url}/v1/chat/completions", json=body, timeout=300)
    assert response.status_code == 200, response.text
    return [choice["plan"] for choice in response.json()["choices"]]


def _open(page: Page, plan_id: str) -> None:
    page.click("#tab-stored")
    page.fill("#open-form [name=id]", plan_id)
    page.click("#open")
    page.wait_for_selector(f"#plan[data-plan-id='{plan_id}'][data-state=done]")


@pytest.mark.timeout(300, func_only=True)
def test_a_stored_plan_opens_by_id_and_each_snapshot_shows_the_apis_candidates(
    page: Page, stored: list[dict[str, Any]], tmp_path: Path
) -> None:
    plan = stored[0]
    _open(page, plan["id"])
    assert map_text(page) == plan["text"]
    assert plan["id"] in page.inner_text("#plan [data-part=status]")
    screenshot(page, tmp_path, "stored")

    stretches = page.locator("#plan [data-part=map] .seg[role=button]")
    assert stretches.count() == len(plan["snapshots"]) >= 2
    # A snapshot with candidates, or comparing them would prove nothing.
    rich = [
        i
        for i, s in enumerate(plan["snapshots"])
        if any(h["candidates"] for h in s["horizons"].values())
    ]
    assert rich, "no rollout reached any horizon within the lookahead"
    stretches.nth(rich[-1]).click()  # by mouse
    _check_shown(page, plan, rich[-1])
    screenshot(page, tmp_path, "stored-snapshot")
    page.keyboard.press("Home")  # then by keyboard, from the focused stretch
    _check_shown(page, plan, 0)
    page.keyboard.press("ArrowRight")
    _check_shown(page, plan, 1)


def _check_shown(page: Page, plan: dict[str, Any], index: int) -> None:
    """The snapshot panel shows snapshot ``index`` of the API's plan, candidate for candidate."""
    snapshot = plan["snapshots"][index]
    heading = page.inner_text("#plan [data-part=snapshot] h3")
    assert heading == f"Snapshot at token {snapshot['position']}"
    for horizon, h in snapshot["horizons"].items():
        assert shown_candidates(page, horizon) == api_candidates(h), (index, horizon)


@pytest.mark.timeout(300, func_only=True)
def test_a_conversations_plans_are_listed_and_one_is_deleted(
    page: Page, live: LiveServer, stored: list[dict[str, Any]], tmp_path: Path
) -> None:
    conversation = stored[0]["conversation"]
    assert conversation and stored[1]["conversation"] == conversation
    page.click("#tab-stored")
    page.fill("#list-form [name=conversation]", conversation)
    page.click("#list")
    page.wait_for_selector("#plan-list[data-count]")
    listed = page.locator("#plan-list tbody tr td:first-child").all_inner_texts()
    assert {p["id"] for p in stored} <= set(listed)
    screenshot(page, tmp_path, "stored-list")

    victim = stored[1]["id"]
    _open(page, victim)
    page.click("#delete")
    page.wait_for_selector(f"#plan-list[data-count='{len(listed) - 1}']")
    assert httpx.get(f"{live.url}/v1/plans/{victim}", timeout=30).status_code == 404
    page.click("#open")  # the id is still in the field: opening it again is a 404, shown
    page.wait_for_selector("#error:not([hidden])")
    assert "404" in page.inner_text("#error")


@pytest.mark.timeout(300, func_only=True)
def test_a_given_reply_is_analysed(page: Page, live: LiveServer, tmp_path: Path) -> None:
    page.click("#tab-analyse")
    form = "#analyse-form"
    reply = "A dog is a loyal friend. It loves to run in the park."
    set_horizons(page, form, ["sentence", "turn", "user"])
    fill_plan(
        page,
        form,
        user_message="Describe a dog in two sentences.",
        assistant=reply,
        next_user="Now describe a cat.",
        rollouts="2",
        max_lookahead_tokens="24",
    )
    page.click("#analyse")
    page.wait_for_selector("#plan[data-state=done]")
    assert map_text(page) == reply
    assert page.locator("#plan .mark-sentence").count() >= 1  # the realised sentence ends
    plan_id = page.get_attribute("#plan", "data-plan-id")
    plan = httpx.get(f"{live.url}/v1/plans/{plan_id}", timeout=30).json()
    assert plan["text"] == reply
    first = plan["snapshots"][0]
    for horizon, h in first["horizons"].items():
        assert shown_candidates(page, horizon) == api_candidates(h)
    assert page.locator("#plan [data-part=comparison] table").count() == 1
    screenshot(page, tmp_path, "analyse")


@pytest.mark.timeout(120, func_only=True)
def test_a_bad_plan_setting_shows_the_servers_error(
    page: Page, live: LiveServer, model: str, tmp_path: Path
) -> None:
    fill_plan(page, "#live-form", rollouts="100000", max_tokens="8")
    page.click("#send")
    page.wait_for_selector("#error:not([hidden])")
    shown = page.inner_text("#error")
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Hi"}],
        "plan": {"rollouts": 100000},
        "stream": True,
    }
    error = httpx.post(f"{live.url}/v1/chat/completions", json=body, timeout=30).json()["error"]
    assert error["param"] == "plan.rollouts"
    assert "400" in shown and "plan.rollouts" in shown and error["message"] in shown
    assert page.locator("#send").is_enabled()  # the page recovers for the next try
    assert page.locator("#plan").is_hidden()  # no empty plan left in view
    screenshot(page, tmp_path, "error")
