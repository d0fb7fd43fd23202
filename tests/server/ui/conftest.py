"""A real browser for the plan explorer's tests: Debian's Chromium, headless, driven by
Playwright (its own browser download does not work here, so it is pointed at the system's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import LiveServer
from playwright.sync_api import Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that reaches the network on its own (updates, sync, QUIC probes).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_MS = 120_000  # longest wait for one thing on the page (a planned reply on a busy CPU)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/ensure-system-packages.sh")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def page(playwright: Playwright, live: LiveServer, tmp_path: Path) -> Iterator[Page]:
    """A fresh browser profile per test, at the live server's plan explorer; the test fails
    if the page throws a script error."""
    context = playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
        base_url=live.url,
    )
    errors: list[str] = []
    try:
        tab = context.pages[0] if context.pages else context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.set_default_timeout(STEP_MS)
        tab.goto("/ui")
        tab.wait_for_selector("#model:has-text('model:')")
        yield tab
    finally:
        context.close()
    assert not errors, f"script errors on the page: {errors}"
