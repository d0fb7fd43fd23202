"""Conversation keys: stable across turns, unchanged without a tenant, apart per tenant."""

from __future__ import annotations

from planner.conversation import continued_turn, conversation_id, turn_key

OPENING = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": " The cat"}]
TURN = [*OPENING, {"role": "assistant", "content": " sat."}, {"role": "user", "content": " No."}]


def test_keys_without_a_tenant_are_those_stored_before_tenancy() -> None:
    # Pinned: plans stored by earlier versions are found by these very keys.
    assert conversation_id(TURN, tenant=None) == "conv-670b915c6976b080b1cde60f1519f264"
    assert turn_key(OPENING, tenant=None) == "turn-670b915c6976b080b1cde60f1519f264180e9c99"
    assert conversation_id(OPENING, tenant=None) == conversation_id(TURN, tenant=None)


def test_each_tenant_has_its_own_keys_for_the_same_messages() -> None:
    tenants = (None, "0123456789abcdef", "fedcba9876543210")
    conversations = {conversation_id(TURN, tenant=t) for t in tenants}
    turns = {turn_key(OPENING, tenant=t) for t in tenants}
    assert len(conversations) == 3 and len(turns) == 3
    for t in tenants:  # one tenant's conversation stays one across its turns
        assert conversation_id(OPENING, tenant=t) == conversation_id(TURN, tenant=t)
        assert continued_turn(TURN, tenant=t) == (turn_key(OPENING, tenant=t), " sat.", " No.")
