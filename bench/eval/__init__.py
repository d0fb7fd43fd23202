"""``foresight eval``: plan a set of conversations on one engine and report what the plans show.

``prompts`` reads the conversations (a JSONL file; ``prompts.jsonl`` is the default set),
``settings`` is the run's configuration, ``ceiling`` samples the second, independent set of
K rollouts the sampling-noise ceiling is scored with, ``runner`` plans each conversation and
``results`` appends its row to ``results.jsonl`` (so a killed run resumes), ``report`` and
``curves`` turn the rows into ``report.json``, ``figures`` draws its PNGs, ``page`` writes
the HTML page and ``command`` runs the subcommand. Like the bench, it knows both the planner
and the engine; ``server/cli.py`` imports it inside the ``eval`` subcommand only.
"""
