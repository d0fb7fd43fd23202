"""Checks that a plan a request names exists, before any work starts."""

from __future__ import annotations

from planner.errors import StoreError
from server.plans.service import PlanService, raise_not_found


async def check_previous(plans: PlanService, previous_id: str | None) -> None:
    """A ``plan.previous_id`` that names no stored plan is a 404, not silently ignored.

    A store that cannot answer lets the request through (the text matters more than the
    link to the previous turn, which is then simply not made).
    """
    if previous_id is None:
        return
    try:
        found = await plans.store.get(previous_id) is not None
    except StoreError:
        return
    if not found:
        raise_not_found(previous_id, param="plan.previous_id")
