"""``foresight bench``: plain, planned and naive generation measured side by side on one engine.

The only package that knows both layers: it drives the planner on an engine of its own and
starts servers as subprocesses, so neither ``planner`` nor ``server`` has to. ``server/cli.py``
imports it inside the ``bench`` subcommand only.

``stats`` holds the pure arithmetic (percentiles, inter-token latency, the engine's limit),
``measure`` times single generations on an engine, ``suite`` runs a whole benchmark on an
already-built engine (so tests can lend theirs), ``report`` builds the JSON entries and
checks the targets, ``table`` prints them, ``options`` turns command-line choices into
configurations, ``command`` runs the subcommand, ``servers`` starts HTTP servers as
subprocesses and ``http_load`` times streamed requests against them. ``bench.eval`` is
``foresight eval``: the plans' quality over a set of conversations (see its docstring).
"""
