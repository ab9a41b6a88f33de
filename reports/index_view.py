"""index.html of a folder of audit runs (what `serve` writes beside its runs): one row per run,
newest first, with its period, findings, amount at risk and the trend of its scope. Pure: the
runs' summary.json and run.json contents in, the page out (flows/schedule/index.py reads them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reports.formatting import fmt_int, fmt_money
from reports.render import csp_hash, environment

TEMPLATE = "index.html.j2"
SPARKS = "▁▂▃▄▅▆▇█"
# runs of a scope the sparkline shows, ending with the row's own
SPARK_RUNS = 12
STYLE = (
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2733;margin:0}"
    "main{max-width:1200px;margin:0 auto;padding:16px}"
    "table{border-collapse:collapse;width:100%}th,td{padding:6px 8px;border-bottom:1px solid"
    " #dde3ea;text-align:left;vertical-align:top}th{background:#e8eef7}"
    ".num{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,"
    "monospace;font-size:.85rem}.up{color:#a3260f}.down{color:#1f6f3a}.muted{color:#5b6775}"
    ".spark{font-size:1.1rem;letter-spacing:1px}.wrap{overflow-x:auto}"
)


@dataclass(frozen=True)
class RunEntry:
    """One run folder: its name (the run id), whether report.html is there, its files."""

    folder: str
    summary: Mapping[str, Any]
    run: Mapping[str, Any]
    has_report: bool


def _scope(e: RunEntry) -> str:
    history = e.summary.get("history") or {}
    return str(history.get("scope") or (e.run.get("options") or {}).get("scope") or "—")


def _period(e: RunEntry) -> str:
    p = e.summary.get("period")
    return f"{p['start']} to {p['end']}" if p else "all dates of service"


def _flow_run(e: RunEntry) -> str | None:
    url = str((e.run.get("prefect") or {}).get("ui_url") or "")
    return url if url.startswith(("http://", "https://")) else None


def _spark(values: Sequence[float]) -> str:
    top = max(values, default=0.0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[min(int(v / top * (len(SPARKS) - 1) + 0.5), len(SPARKS) - 1)]
                   for v in values)  # fmt: skip


def _trend(amount: float, before: float | None) -> tuple[str, str]:
    """(text, class) of the change in amount at risk since the scope's previous run."""
    if before is None:
        return "first run of its scope", "muted"
    change = amount - before
    if abs(change) < 0.005:
        return "no change", "muted"
    sign = "▲ +" if change > 0 else "▼ −"
    return f"{sign}{fmt_money(abs(change))}", "up" if change > 0 else "down"


def index_view(entries: Sequence[RunEntry]) -> dict[str, Any]:
    """The rows, newest run first; each scope's runs in time order give its trend."""
    ordered = sorted(entries, key=lambda e: (str(e.run.get("started_at") or ""), e.folder))
    amounts: dict[str, list[float]] = {}
    rows = []
    for e in ordered:
        scope, s = _scope(e), e.summary
        amount = float(s.get("amount_at_risk") or 0.0)
        series = amounts.setdefault(scope, [])
        text, trend_class = _trend(amount, series[-1] if series else None)
        series.append(amount)
        rows.append(
            {
                "folder": e.folder,
                "run_id": str(e.run.get("run_id") or e.folder),
                "started_at": str(e.run.get("started_at") or "")[:16].replace("T", " "),
                "scope": scope,
                "period": _period(e),
                "lines_audited": fmt_int(int(s.get("lines_audited") or 0)),
                "findings": fmt_int(int(s.get("findings") or 0)),
                "lines_with_findings": fmt_int(int(s.get("lines_with_findings") or 0)),
                "amount": amount,
                "amount_display": fmt_money(amount),
                "trend": text,
                "trend_class": trend_class,
                "spark": _spark(series[-SPARK_RUNS:]),
                "report": f"{e.folder}/report.html" if e.has_report else None,
                "flow_run": _flow_run(e),
            }
        )
    return {"rows": rows[::-1], "runs": len(rows), "scopes": len(amounts)}


def render_index(view: Mapping[str, Any]) -> str:
    """The self-contained page: no script, its one style allowed by hash."""
    template = environment().get_template(TEMPLATE)
    return template.render(view=view, style=STYLE, csp_style=csp_hash(STYLE))
