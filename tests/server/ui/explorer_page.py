"""What a person sees in the plan explorer, read from the page (for the browser tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

MARKS = ".mark-sentence, .mark-paragraph, .fork-flag, .empty-seg"


def map_text(page: Page) -> str:
    """The text shown in the map, without the boundary and fork marks drawn into it."""
    text: str = page.evaluate(
        """(marks) => {
            const copy = document.querySelector('#plan [data-part=map]').cloneNode(true);
            copy.querySelectorAll(marks).forEach((m) => m.remove());
            return copy.textContent;
        }""",
        MARKS,
    )
    return text


def shown_candidates(page: Page, horizon: str) -> list[dict[str, Any]]:
    """The candidate bars of ``horizon`` in the snapshot panel: text, probability, count."""
    items = page.locator(f"#plan [data-part=snapshot] [data-horizon={horizon}] .candidate")
    return [
        {
            "text": item.get_attribute("data-text"),
            "probability": float(item.get_attribute("data-probability") or "nan"),
            "count": int(item.get_attribute("data-count") or "-1"),
        }
        for item in items.all()
    ]


def api_candidates(horizon: dict[str, Any]) -> list[dict[str, Any]]:
    """The fields of the API's candidates that the bars show (text, probability, count)."""
    return [
        {"text": c["text"], "probability": c["probability"], "count": c["count"]}
        for c in horizon["candidates"]
    ]


def snapshot_heading(page: Page) -> str:
    return page.locator("#plan [data-part=snapshot] h3").inner_text()


def fill_plan(page: Page, form: str, **fields: str) -> None:
    """Type into ``form``'s fields by name (plan settings and sampling alike)."""
    for name, value in fields.items():
        page.locator(f"{form} [name={name}]").fill(value)


def set_horizons(page: Page, form: str, horizons: list[str]) -> None:
    for box in page.locator(f"{form} input[name=horizon]").all():
        box.set_checked(box.get_attribute("value") in horizons)


def screenshot(page: Page, folder: Path, name: str) -> Path:
    """Keep what the page looked like as a test artefact (full page, PNG)."""
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
