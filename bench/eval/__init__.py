"""``foresight eval``: plan a set of conversations on one engine and report what the plans show.

``prompts`` reads the conversations (a JSONL file; ``prompts.jsonl`` is the default set),
``settings`` is the run's configuration, ``ceiling`` samples the second, independent set of
K rollouts the sampling-noise ceiling is scored with, ``runner`` plans the conversations
(several at once) and ``results`` appends each row to ``results.jsonl`` as it finishes (so a
killed run resumes), ``climatology`` scores the climatology baseline leave-one-conversation-
out, ``report`` and ``curves`` turn the rows into ``report.json``, ``figures`` draws its
PNGs, ``page`` writes the HTML page and ``command`` runs the subcommand. Like the bench, it
knows both the planner and the engine; ``server/cli.py`` imports it inside the ``eval``
subcommand only.
"""
