"""Every default of the SDK in one place: where the server is, how long to wait, how to retry."""

from __future__ import annotations

import httpx

#: Where a client connects when neither ``base_url`` nor ``FORESIGHT_BASE_URL`` says.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
BASE_URL_ENV = "FORESIGHT_BASE_URL"
#: Sent as ``Authorization: Bearer <key>`` when set (the server itself needs none;
#: a proxy in front of it may).
API_KEY_ENV = "FORESIGHT_API_KEY"

#: Sent with every chat request: the conversation's id (the server's ``plan.conversation``),
#: so that a load balancer can send every turn of a conversation to the replica whose
#: prefix cache already holds it (e.g. ingress-nginx ``upstream-hash-by``).
CONVERSATION_HEADER = "X-Foresight-Conversation"

#: Planned generations are slow on CPU, so reads may take minutes; a server that is
#: not there should fail fast. Streams get a ping every 15 s, well inside the read timeout.
DEFAULT_TIMEOUT = httpx.Timeout(timeout=600.0, connect=5.0)

#: Retries after the first attempt (so up to three requests in all).
DEFAULT_MAX_RETRIES = 2
#: Backoff: INITIAL_RETRY_DELAY * 2**attempt, capped at MAX_RETRY_DELAY, minus up to
#: a quarter of jitter so that many clients do not retry in lockstep.
INITIAL_RETRY_DELAY = 0.5
MAX_RETRY_DELAY = 8.0
#: A server's Retry-After is honoured up to this many seconds; beyond it the backoff is used
#: (a misconfigured proxy should not park a client for an hour).
MAX_RETRY_AFTER = 60.0

#: Statuses worth another try: request timeout, conflict (a lock), rate limit, and every 5xx.
RETRY_STATUSES = frozenset({408, 409, 429})
