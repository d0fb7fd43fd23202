"""The Prometheus configuration, checked by Prometheus's own promtool."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PROMETHEUS = Path(__file__).parents[2] / "deploy" / "prometheus" / "prometheus.yml"


def test_promtool_accepts_the_prometheus_config() -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: scripts/ensure-system-packages.sh installs `prometheus`"
    out = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "SUCCESS" in out.stdout + out.stderr
