"""The ``--html`` report: one self-contained page (inline style, no script, nothing fetched)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from bot.eval.report import summary
from bot.eval.runner import CaseResult

_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem; color: #1d2330; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid #dde1e8; padding: .4rem .6rem; text-align: left; vertical-align: top; }
th { background: #f3f5f8; }
.pass { color: #137333; font-weight: 600; } .fail { color: #b3261e; font-weight: 600; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-top: .3rem; } pre { white-space: pre-wrap; margin: .2rem 0; }
"""


def html_report(results: Sequence[CaseResult], model: str) -> str:
    counts = summary(results)
    cost = sum(result.cost_usd for result in results)
    rows = "\n".join(_row(result) for result in results)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>supportbot eval</title><style>{_STYLE}</style></head>
<body>
<h1>supportbot eval</h1>
<p>Model: {escape(model)}. <strong>{counts["passed"]} of {counts["cases"]} passed</strong>,
{counts["failed"]} failed; cost ${cost:.4f}.</p>
<table>
<thead><tr><th>case</th><th>result</th><th>tools</th><th class="num">cost $</th><th class="num">ms</th>
<th>why it failed / the conversation</th></tr></thead>
<tbody>
{rows}
</tbody></table>
</body></html>
"""


def _row(result: CaseResult) -> str:
    verdict = '<span class="pass">pass</span>' if result.passed else '<span class="fail">FAIL</span>'
    reasons = "".join(f"<li>{escape(reason)}</li>" for reason in result.reasons)
    turns = "".join(
        f"<pre><b>asked:</b> {escape(turn.question)}</pre><pre><b>answer:</b> {escape(turn.text)}</pre>"
        for turn in result.run.turns
    )
    return (
        f"<tr><td>{escape(result.name)}<br><small>{escape(result.where)}</small></td><td>{verdict}</td>"
        f"<td>{escape(', '.join(dict.fromkeys(result.tools)))}</td>"
        f'<td class="num">{result.cost_usd:.4f}</td><td class="num">{result.latency_ms:.0f}</td>'
        f"<td>{f'<ul>{reasons}</ul>' if reasons else ''}<details><summary>conversation</summary>{turns}"
        "</details></td></tr>"
    )
