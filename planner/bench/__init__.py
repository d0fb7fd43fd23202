"""``foresight bench``: plain, planned and naive generation measured side by side on one engine.

``stats`` holds the pure arithmetic (percentiles, inter-token latency, the engine's limit),
``measure`` times single generations on an engine, ``core`` runs a whole benchmark on an
already-built engine (so tests can lend theirs), ``report`` prints the table and checks the
targets, and ``servers`` starts HTTP servers as subprocesses for the server comparison.
"""
