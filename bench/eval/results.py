"""The run's rows on disk: one JSON object per planned conversation, appended as each
finishes, so a killed run keeps what it did and a rerun continues where it stopped.

Invariant: every complete line is one finished conversation; a line cut short by a kill
is the only kind of damage and is dropped (and truncated away) on the next start.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

RESULTS = "results.jsonl"
SETTINGS = "settings.json"


class ResultsError(ValueError):
    """The output directory holds results that cannot be continued."""


class Results:
    """``DIR/results.jsonl`` and the settings it was made with (``DIR/settings.json``)."""

    def __init__(self, out: str | Path, settings: dict[str, Any]) -> None:
        self.dir = Path(out)
        self.path = self.dir / RESULTS
        self.settings = settings
        self.dir.mkdir(parents=True, exist_ok=True)
        recorded = self.dir / SETTINGS
        if recorded.exists():
            before = json.loads(recorded.read_text())
            if before != settings:
                changed = sorted(
                    k for k in {*before, *settings} if before.get(k) != settings.get(k)
                )
                raise ResultsError(
                    f"{self.dir} holds results made with other settings ({', '.join(changed)}); "
                    "use another --out, or the same settings to continue"
                )
        else:
            recorded.write_text(json.dumps(settings, indent=2) + "\n")
        self.rows = self._read()

    def _read(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        rows, good = [], 0
        with self.path.open("rb") as f:
            for line in f:
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    break  # a row cut short by a kill: everything after it is dropped
                good += len(line)
        if good != self.path.stat().st_size:
            with self.path.open("r+b") as f:
                f.truncate(good)
        return rows

    @property
    def done(self) -> set[str]:
        return {row["id"] for row in self.rows}

    def append(self, row: dict[str, Any]) -> None:
        """Write one finished conversation and make it durable before the next starts."""
        line = json.dumps(row, allow_nan=False) + "\n"
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            os.fsync(f.fileno())
        self.rows.append(row)
