"""History and reviews in report.html, as plain data (no I/O, no clock): the trend over the past
runs of the scope, which findings are new, persisting or resolved since the previous run, and
the reviewer dispositions applied to this run's findings.

Counts come from summary.json's `history` and `dispositions` sections as they are (the page
cannot disagree with the file); the lists come from `Changes`, which flows/run/stages.py fills from
the history database (flows/state/history.py) and the reviewed-findings file
(flows/state/dispositions.py).
Reviewed findings are marked, never hidden: they stay in every count and table of the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from reports.charts import bar_chart
from reports.formatting import fmt_int, fmt_money

TREND_RUNS = 12  # this run and the 11 before it
RESOLVED_ROWS = 200
REVIEW_ROWS = 200
DISPOSITION_LABELS = {
    "accepted-risk": "Accepted risk",
    "corrected": "Corrected",
    "false-positive": "False positive",
    "reviewed": "Reviewed (all)",
    "unreviewed": "Not reviewed",
}


@dataclass(frozen=True)
class Changes:
    """`statuses`: checks.history.HistoryDiff.statuses (finding_id, status, rule_id, severity,
    amount_at_risk; resolved rows carry the previous run's values). `trend`:
    flows.state.history.trend
    of the runs before this one, oldest first. `marks`: checks.dispositions.apply_dispositions
    marks (finding_id, disposition, reviewer, reviewed_on, reason)."""

    statuses: pl.DataFrame | None = None
    trend: tuple[dict[str, Any], ...] = ()
    marks: pl.DataFrame | None = None


def finding_marks(findings: pl.DataFrame, changes: Changes | None) -> pl.DataFrame | None:
    """`findings` with `status` and `disposition` columns for the findings table, or None when
    the run has neither history nor dispositions (the table then keeps its usual columns)."""
    if changes is None or (changes.statuses is None and changes.marks is None):
        return None
    out = findings
    for frame, column in ((changes.statuses, "status"), (changes.marks, "disposition")):
        if frame is None:
            out = out.with_columns(pl.lit(None, pl.String).alias(column))
        else:
            out = out.join(
                frame.select("finding_id", column),
                on="finding_id",
                how="left",
                maintain_order="left",
            )
    return out


def _label(started_at: str) -> str:
    # "2026-03-01T06:00:00+00:00" or "2026-03-01 06:00:00 UTC" -> "2026-03-01 06:00"
    return started_at.replace("T", " ")[:16]


def _claim_line(finding_id: str) -> tuple[str, str]:
    rest = finding_id.split(":", 1)[1] if ":" in finding_id else finding_id
    claim, _, line = rest.rpartition(":")
    return claim, line


def history_view(
    summary: Mapping[str, Any], changes: Changes | None, run_id: str, run_time: str
) -> dict[str, Any] | None:
    history = summary.get("history")
    if history is None or changes is None or changes.statuses is None:
        return None
    counts = history["counts"]
    now = {
        "run_id": run_id,
        "started_at": run_time,
        "findings": summary["findings"],
        "lines_with_findings": summary["lines_with_findings"],
        "amount_at_risk": summary["amount_at_risk"],
    }
    past = [p for p in changes.trend if p["run_id"] != run_id]  # a retried run: once
    points = [*past[-(TREND_RUNS - 1) :], now]
    rows = [
        {
            "run_id": p["run_id"],
            "when": _label(str(p["started_at"])),
            "findings": fmt_int(p["findings"]),
            "lines": fmt_int(p["lines_with_findings"]),
            "amount": fmt_money(p["amount_at_risk"]),
            "current": p is now,
        }
        for p in points
    ]
    labels = ["this run" if r["current"] else r["when"] for r in rows]
    statuses = changes.statuses
    by_rule = (
        statuses.group_by("rule_id", "status").len().pivot("status", index="rule_id", values="len")
        if statuses.height
        else pl.DataFrame({"rule_id": []}, schema={"rule_id": pl.String})
    )
    per_rule = [
        {
            "rule_id": r["rule_id"],
            **{s: fmt_int(r.get(s) or 0) for s in ("new", "persisting", "resolved")},
        }
        for r in by_rule.sort("rule_id").iter_rows(named=True)
    ]
    resolved = statuses.filter(pl.col("status") == "resolved").sort(
        ["amount_at_risk", "finding_id"], descending=[True, False]
    )
    gone = []
    for r in resolved.head(RESOLVED_ROWS).iter_rows(named=True):
        claim, line = _claim_line(r["finding_id"])
        gone.append(
            {
                "rule_id": r["rule_id"],
                "severity": r["severity"],
                "claim_id": claim,
                "line_number": line,
                "amount": fmt_money(r["amount_at_risk"] or 0),
            }
        )
    return {
        "scope": history["scope"],
        "previous_run_id": history["previous_run_id"],
        "previous_when": _label(history["previous_started_at"] or ""),
        "counts": {k: counts[k] for k in ("new", "persisting", "resolved")},
        "counts_display": {k: fmt_int(counts[k]) for k in ("new", "persisting", "resolved")},
        "trend": rows,
        "charts": [
            bar_chart(
                "chart-trend-findings",
                "Findings per run",
                list(zip(labels, [p["findings"] for p in points], strict=True)),
                fmt_int,
                measure="count",
            ),
            bar_chart(
                "chart-trend-amount",
                "Amount at risk per run",
                list(zip(labels, [p["amount_at_risk"] for p in points], strict=True)),
                fmt_money,
                measure="money",
            ),
        ],
        "per_rule": per_rule,
        "resolved": gone,
        "resolved_more": max(resolved.height - len(gone), 0),
    }


def _review_rows(by: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """Reviewed / unreviewed findings per rule or provider, the most unreviewed first."""
    order = sorted(by, key=lambda key: (-by[key]["unreviewed"], key))[:REVIEW_ROWS]
    return [
        {
            "key": key,
            "reviewed": by[key]["reviewed"],
            "reviewed_display": fmt_int(by[key]["reviewed"]),
            "unreviewed": by[key]["unreviewed"],
            "unreviewed_display": fmt_int(by[key]["unreviewed"]),
        }
        for key in order
    ]


def reviews_view(summary: Mapping[str, Any], changes: Changes | None) -> dict[str, Any] | None:
    counts = summary.get("dispositions")
    if counts is None or changes is None or changes.marks is None:
        return None
    table = [
        {
            "key": key,
            "label": label,
            "findings": counts[key]["findings"],
            "findings_display": fmt_int(counts[key]["findings"]),
            "amount_display": fmt_money(counts[key]["amount_at_risk"]),
        }
        for key, label in DISPOSITION_LABELS.items()
    ]
    rows = []
    for r in changes.marks.head(REVIEW_ROWS).iter_rows(named=True):
        claim, line = _claim_line(r["finding_id"])
        rows.append(
            {
                "finding_id": r["finding_id"],
                "rule_id": r["finding_id"].split(":", 1)[0],
                "claim_id": claim,
                "line_number": line,
                "disposition": r["disposition"],
                "reviewer": r["reviewer"],
                "reviewed_on": "" if r["reviewed_on"] is None else r["reviewed_on"].isoformat(),
                "reason": r["reason"] or "",
            }
        )
    return {
        "file": counts.get("file", ""),
        "counts": table,
        "by_rule": _review_rows(counts.get("by_rule", {})),
        "by_provider": _review_rows(counts.get("by_provider", {})),
        "reviewed": fmt_int(counts["reviewed"]["findings"]),
        "stale": counts["stale"],
        "rows": rows,
        "more": max(changes.marks.height - len(rows), 0),
    }
