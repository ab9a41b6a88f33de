"""The counts each stage line of a run's progress shows (flows/run/progress.py), with thousands
separators: rows and files, never a value from the rows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.inputs.read import RawExport
from reports.formatting import fmt_int, fmt_money


def read_counts(raws: Mapping[str, RawExport]) -> str:
    rows = sum(r.frame.height for r in raws.values())
    files = sum(len(r.files) for r in raws.values())
    return f"{fmt_int(rows)} rows from {fmt_int(files)} file{'s' if files != 1 else ''}"


def validate_counts(summary: Mapping[str, Any]) -> str:
    totals = summary["totals"]
    return (
        f"{fmt_int(totals['rows_accepted'])} rows accepted, "
        f"{fmt_int(totals['rows_quarantined'])} quarantined"
    )


def rules_counts(runs: Mapping[str, Any]) -> str:
    ran = sum(1 for r in runs.values() if r.status in ("passed", "findings"))
    failed = sum(1 for r in runs.values() if r.status == "failed to run")
    return f"{fmt_int(ran)} of {fmt_int(len(runs))} rules ran" + (
        f", {fmt_int(failed)} failed to run" if failed else ""
    )


def findings_counts(summary: Mapping[str, Any]) -> str:
    return (
        f"{fmt_int(summary['findings'])} findings on {fmt_int(summary['lines_with_findings'])} "
        f"of {fmt_int(summary['lines_audited'])} lines, {fmt_money(summary['amount_at_risk'])} "
        "at risk"
    )
