"""The Live view in a real browser against the real server: a planned chat streams, the plan
forms beside the text while it streams, and the next turn shows the previous prediction."""

from __future__ import annotations

from pathlib import Path

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

LIVE = "#live-form"
TEXT_STREAMING = """() => document.querySelector('#plan').dataset.state === 'streaming'
    && document.querySelector('#plan [data-part=map]').textContent.trim().length > 0"""
# Seen while the reply streams: text in the map and a snapshot with candidate bars.
STREAMING_WITH_A_PLAN = """() => {
    const plan = document.querySelector('#plan');
    return plan.dataset.state === 'streaming'
        && Number(plan.dataset.snapshots) >= 1
        && plan.querySelector('[data-part=map]').textContent.trim().length > 0
        && plan.querySelector('[data-part=snapshot] .candidate') !== null;
}"""


def _short_plan(page: Page, max_tokens: str) -> None:
    set_horizons(page, LIVE, ["sentence", "turn", "user"])
    fill_plan(
        page, LIVE, max_tokens=max_tokens, rollouts="2", refresh="8", max_lookahead_tokens="16"
    )


@pytest.mark.timeout(300, func_only=True)
def test_a_planned_chat_streams_with_its_plan_beside_it(
    page: Page, live: LiveServer, tmp_path: Path
) -> None:
    _short_plan(page, max_tokens="40")
    fill_plan(page, LIVE, message="Describe a cat in two sentences.", seed="3")
    page.click("#send")

    # The text streams token by token: the first text seen is not yet the whole reply.
    page.wait_for_function(TEXT_STREAMING, polling=20)
    first_seen = map_text(page)
    page.wait_for_function(STREAMING_WITH_A_PLAN, polling=50)
    screenshot(page, tmp_path, "live-streaming")
    streamed = map_text(page)
    page.wait_for_selector("#plan[data-state=done]")
    screenshot(page, tmp_path, "live-done")

    plan_id = page.get_attribute("#plan", "data-plan-id")
    assert plan_id
    plan = httpx.get(f"{live.url}/v1/plans/{plan_id}", timeout=30).json()
    assert map_text(page) == plan["text"]
    assert plan["text"].startswith(streamed), "the streamed text is a prefix of the reply"
    assert first_seen and len(first_seen) < len(plan["text"]), (first_seen, plan["text"])
    assert int(page.get_attribute("#plan", "data-snapshots") or 0) == len(plan["snapshots"])
    # The newest snapshot stays selected while streaming; it shows the API's candidates.
    last = plan["snapshots"][-1]
    assert f"token {last['position']}" in page.inner_text("#plan [data-part=snapshot] h3")
    for horizon, h in last["horizons"].items():
        assert shown_candidates(page, horizon) == api_candidates(h)
    for horizon in plan["config"]["horizons"]:
        assert page.locator(f"#plan figure[data-horizon={horizon}] svg").count() == 1
    turns = page.locator("#conversation li")
    assert turns.count() == 2 and turns.nth(1).inner_text() == plan["text"]


@pytest.mark.timeout(300, func_only=True)
def test_the_next_turn_shows_how_the_previous_plan_predicted_the_message(
    page: Page, tmp_path: Path
) -> None:
    _short_plan(page, max_tokens="24")
    fill_plan(page, LIVE, message="Name one colour.", seed="5")
    page.click("#send")
    page.wait_for_selector("#plan[data-state=done]")
    # Before the next message, the user horizon's score is not known yet, and says so.
    user = page.locator("#plan [data-part=snapshot] [data-horizon=user] .outcome")
    assert "not yet known" in user.inner_text()

    fill_plan(page, LIVE, message="Thanks. Another one?", seed="6")
    page.click("#send")
    page.wait_for_selector("#plan[data-state=done]")
    previous = page.locator("#plan [data-part=previous]")
    assert "you wrote" in previous.inner_text() and "Thanks. Another one?" in previous.inner_text()
    assert "log-probability of your message" in previous.inner_text()
    assert page.locator("#conversation li").count() == 4
    screenshot(page, tmp_path, "live-second-turn")
