"""Two replicas on one real Redis behind a round-robin front: plans follow the conversation.

Turns of one conversation land on different replicas; a replica that dies mid-stream
takes nothing stored with it, and the other one goes on serving the conversation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from foresight_client import Client, ForesightError, TextDelta
from live_server import LiveServer
from replicas import LoopServer, Replica
from round_robin import RoundRobinFront

from tests.planner.store.redis_server import RedisServer

pytestmark = [pytest.mark.engine, pytest.mark.redis]

PLAN = {"horizons": ["sentence", "turn", "user"], "rollouts": 2, "max_lookahead_tokens": 16}


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = RedisServer.start()
    try:
        yield server.url
    finally:
        server.stop()


def test_replicas_share_plans_and_outlive_one_of_them(live: LiveServer, redis_url: str) -> None:
    a = Replica(live, redis_url).start()
    b = Replica(live, redis_url).start()
    front = RoundRobinFront([a.url, b.url])
    entry = LoopServer(live, front.app).start()
    try:
        with Client(base_url=entry.url, max_retries=0) as client:
            messages = [{"role": "user", "content": "What is 2+2? Answer in one short sentence."}]
            first = client.chat(messages, plan=PLAN, max_tokens=16, seed=1)
            p1 = first.plan
            assert p1 is not None and p1.stored and front.served == [a.url]
            # The SDK's affinity header is the server's conversation id.
            assert front.affinity == [p1.conversation]

            turn2 = [*messages, first.choices[0].message, {"role": "user", "content": "Why?"}]
            second = client.chat(turn2, plan=PLAN, max_tokens=16, seed=1)
            p2 = second.plan
            assert p2 is not None and front.served[-1] == b.url
            assert p2.previous_turn is not None and p2.previous_turn.plan_id == p1.id

            # A dies while it streams another conversation's reply.
            story = [{"role": "user", "content": "Tell a long story about a lighthouse keeper."}]
            texts: list[str] = []
            with (
                pytest.raises(ForesightError),
                client.stream_chat(story, plan=PLAN, max_tokens=400, seed=2) as stream,
            ):
                for event in stream:
                    if isinstance(event, TextDelta):
                        texts.append(event.text)
                    if len(texts) == 3:
                        a.kill()
            assert front.served[-1] == a.url and len(texts) >= 3

            # B goes on: the conversation's third turn, scored against its second.
            turn3 = [*turn2, second.choices[0].message, {"role": "user", "content": "OK."}]
            third = client.chat(turn3, plan=PLAN, max_tokens=16, seed=1)
            p3 = third.plan
            assert p3 is not None and p3.stored and front.served[-1] == b.url
            assert p3.previous_turn is not None and p3.previous_turn.plan_id == p2.id

            # Nothing stored was lost: every plan whole, the conversation listed in full.
            for plan in (p1, p2, p3):
                kept = client.plans.get(plan.id)
                assert kept.finished and kept.snapshots == plan.snapshots
            assert client.plans.get(p1.id).next_turn is not None
            listed = {p.id for p in client.plans.list(p1.conversation or "")}
            assert {p1.id, p2.id, p3.id} <= listed
    finally:
        entry.stop()
        live.run(front.aclose())
        b.stop()
        if not a.stopped:
            a.stop()
