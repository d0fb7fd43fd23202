"""One HTML page with the report's numbers and its figures embedded (base64), so the page
can be mailed or opened anywhere without its directory."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, float) for v in value):
        return f"[{value[0]:.3f}, {value[1]:.3f}]"
    return html.escape(str(value))


def _table(report: dict[str, Any]) -> str:
    head = ("horizon", "scored", "skill vs climatology", "vs persistence", "vs ceiling",
            "ceiling vs climatology", "calibration error", "novel pred / real",
            "visible ≤ tokens")  # fmt: skip
    rows = []
    for h, e in report["horizons"].items():
        s, c, n = e["skill"], e["comparison"], e["novel"]

        def si(key: str, s: dict[str, Any] = s) -> str:
            return f"{_fmt(s[key]['skill'])} {_fmt(s[key]['interval'])}"

        cells = (h, e["scored"], si("climatology"), si("persistence"), si("plan_vs_ceiling"),
                 si("ceiling_vs_climatology"),
                 f"{_fmt(c['calibration_error'])} {_fmt(c['calibration_interval'])}",
                 f"{_fmt(n['predicted'])} / {_fmt(n['realised'])}",
                 e["visibility"]["visible_tokens"])  # fmt: skip
        rows.append("<tr>" + "".join(f"<td>{_fmt(x)}</td>" for x in cells) + "</tr>")
    th = "".join(f"<th>{x}</th>" for x in head)
    return f"<table><tr>{th}</tr>{''.join(rows)}</table>"


def write_page(report: dict[str, Any], figures: list[tuple[str, str]], out: Path) -> Path:
    """``out/report.html``: the summary table, every figure, and the configuration."""
    imgs = []
    for name, title in figures:
        data = base64.b64encode((out / name).read_bytes()).decode()
        imgs.append(f'<h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" '
                    f'src="data:image/png;base64,{data}">')  # fmt: skip
    conv = report["conversations"]
    failed = "".join(f"<li>{_fmt(f['id'])}: {_fmt(f['error'])}</li>" for f in conv["failed"])
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>foresight eval</title>
<style>body{{font-family:sans-serif;max-width:1300px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;font-size:13px}}
img{{max-width:100%}}</style></head><body>
<h1>foresight eval — {html.escape(report["date"])}</h1>
<p>{conv["planned"]} conversations planned in {conv["seconds"]:.0f} s
({conv["completion_tokens"]} reply tokens, {conv["rollout_tokens"]} rollout tokens).
Skill is the fair energy score's skill, 1 − ES/ES<sub>baseline</sub> (&gt; 0: better than the
baseline), with 95% bootstrap intervals over conversations (a drawn conversation brings all
its predictions). Climatology is the realised endings of the same horizon from every other
conversation of the run (leave-one-out). "Visible ≤ tokens": the most tokens before its end
at which the plan gives the ending that came more than ½ (0: never).</p>
{_table(report)}
{f"<h2>Failed</h2><ul>{failed}</ul>" if failed else ""}
{"".join(imgs)}
<h2>Configuration</h2><pre>{html.escape(json.dumps(report["config"], indent=2))}</pre>
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
