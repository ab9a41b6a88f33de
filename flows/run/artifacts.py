"""What a flow run shows in the Prefect UI besides its tasks and logs: a markdown summary, a table
of findings per rule and a link to report.html. Counts, money and rule ids only, never patient
data: artifacts are stored by the Prefect server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)

from flows.run.settings import RunSettings
from reports.formatting import period_sentence


def _slug(text: str) -> str:
    # artifact keys: lowercase letters, digits and dashes only
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "default"


def summary_markdown(summary: dict[str, Any], run_id: str, report: Path | None = None) -> str:
    """The run in a few lines of markdown: counts, money, rule ids, where its report is. Never
    patient data."""
    s = summary
    period = s.get("period")
    title = f"# Therapy billing audit {run_id}"
    if period is not None:
        title += f", audit period {period['start']} to {period['end']}"
    lines = [title, ""]
    if period is not None:
        lines.append(f"- {period_sentence(period)}")
    lines += [
        f"- **{s['lines_audited']:,}** claim lines audited on {s['claims_audited']:,} claims",
        f"- **{s['findings']:,}** findings on {s['lines_with_findings']:,} lines "
        f"({s['line_error_rate'] * 100:.2f}%), **${s['amount_at_risk']:,.2f}** at risk",
    ]
    for sev, row in s["by_severity"].items():
        if row["findings"]:
            lines.append(f"  - {sev}: {row['findings']:,} findings, ${row['amount_at_risk']:,.2f}")
    for row in s.get("by_action", {}).values():
        if row["findings"]:
            lines.append(
                f"- {row['label']}: {row['findings']:,} findings, "
                f"${row['amount_at_risk']:,.2f} at risk"
            )
    failed = [r for r, v in s["by_rule"].items() if v["status"] == "failed to run"]
    lines.append(f"- rules that failed to run: {', '.join(failed) if failed else 'none'}")
    if "history" in s:
        c, prev = s["history"]["counts"], s["history"]["previous_run_id"]
        since = f"since run {prev}" if prev else "(first run of this scope)"
        lines.append(
            f"- {since}: {c['new']:,} new, {c['persisting']:,} persisting, "
            f"{c['resolved']:,} resolved"
        )
    if "dispositions" in s:
        d = s["dispositions"]
        lines.append(
            f"- reviewed: {d['reviewed']['findings']:,} findings "
            f"({d['accepted-risk']['findings']:,} accepted risk, "
            f"{d['corrected']['findings']:,} corrected, "
            f"{d['false-positive']['findings']:,} false positive)"
        )
    if "expectations" in s:
        met = sum(1 for e in s["expectations"] if e["success"])
        lines.append(f"- dataset expectations met: {met} of {len(s['expectations'])}")
    if report is not None:
        # a path on the machine that ran the audit: the UI cannot open local files itself
        lines += ["", f"Report: `{report.resolve()}`", f"([open]({report.resolve().as_uri()}))"]
    return "\n".join(lines) + "\n"


def rule_table(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "rule_id": rule_id,
            "family": r["family"],
            "status": r["status"],
            "findings": r["findings"],
            "lines": r["lines"],
            "amount_at_risk": r["amount_at_risk"],
        }
        for rule_id, r in summary["by_rule"].items()
    ]


def publish_artifacts(s: RunSettings, summary: dict[str, Any], report: Path | None) -> None:
    key = _slug(s.scope)
    create_markdown_artifact(
        summary_markdown(summary, s.run_id, report),
        key=f"audit-summary-{key}",
        description=f"therapy-audit run {s.run_id}",
    )
    create_table_artifact(
        rule_table(summary),
        key=f"audit-findings-by-rule-{key}",
        description=f"Findings per rule, run {s.run_id}",
    )
    target = report if report is not None else s.out_dir
    create_link_artifact(
        target.resolve().as_uri(),
        link_text=target.name,
        key=f"audit-report-{key}",
        description=f"Report of run {s.run_id} (a file on the machine that ran it)",
    )
