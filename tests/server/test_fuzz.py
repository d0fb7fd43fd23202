"""schemathesis against /openapi.json: no 5xx and no response that breaks the schema.

Every operation, positive and negative cases, a bounded number of each, on the real app
with the Markov engine on loopback (seconds, not minutes). Prints the case count.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from guarded_app import ThreadServer

MAX_EXAMPLES = 25
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"


def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path: Path) -> None:
    with ThreadServer(tmp_path, max_tokens=16, request_timeout=30.0) as server:
        report = tmp_path / "events.ndjson"
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
                "--checks", CHECKS, "--mode", "all", "--max-examples", str(MAX_EXAMPLES),
                "--seed", "1", "--workers", "1", "--request-timeout", "30",
                "--report", "ndjson", "--report-ndjson-path", str(report),
                "--phases", "examples,coverage,fuzzing", "--no-color",
            ],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
        )  # fmt: skip
    generated = [line.strip() for line in run.stdout.splitlines() if "generated" in line]
    print(f"\nschemathesis --mode all --max-examples {MAX_EXAMPLES}: {generated[-1:]}")
    assert run.returncode == 0, run.stdout[-4000:]
