"""The findings stage: findings in the contract, summary.json with the dataset expectations,
reviewer dispositions and the diff against the previous run of the scope, and the files.

findings.csv / findings.parquet keep exactly the findings contract (schemas/findings.py): the
per-finding status (new / persisting / resolved) and disposition go to findings_status.csv and
the report, never into the contract files, so findings.csv stays byte-identical for the same
inputs whatever the history says.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from checks.assemble import assemble_result
from checks.dispositions import apply_dispositions
from checks.engine import FAILED, FINDINGS, NOT_APPLICABLE, PASSED, AuditResult
from checks.history import status_rows
from checks.merge import RulesOutput
from checks.period import Period, split_period
from checks.registry import all_rules
from checks.rows import Lines
from checks.summary import build_summary, period_summary
from checks.unclassified import unclassified_codes
from flows.inputs.validate import ValidationSummary
from flows.outputs.audited import Audited, Rows
from flows.outputs.safe_csv import write_csv
from flows.run.context import RunContext
from flows.run.settings import RunSettings
from flows.state import history as hist
from flows.state.dispositions import load_dispositions
from reports.history_view import Changes
from schemas.contract import ALL_EXPORTS
from schemas.findings import FindingsSchema


def audit_result(
    validation: ValidationSummary,
    rules: RulesOutput,
    context: RunContext,
    lines: Lines | None = None,
) -> AuditResult:
    """Findings in the output contract from the merged rule results (checks/assemble.py, the
    same path as checks.assemble.audit); `findings` checks them against the contract. `lines`:
    the claim lines audited (those of the audit period; default every accepted line)."""
    claims = validation.claims if lines is None else lines
    return assemble_result(claims, rules, context.fee_schedule.lazy())


def summarize(
    result: AuditResult,
    validation: ValidationSummary | None,
    period: Period | None = None,
    outside: int = 0,
    unclassified: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """summary.json's counts; with an audit `period`, also `period` and the claims' lines
    outside it, so that accepted = audited + outside the period; `unclassified`: the audited
    lines whose code no profile classifies (checks/unclassified.py)."""
    summary = build_summary(result, all_rules())
    if unclassified is not None:
        summary["unclassified_codes"] = unclassified
    if validation is not None:
        summary["inputs"] = {
            export: {
                key: validation.summary["exports"][export][key]
                for key in ("rows_read", "rows_accepted", "rows_quarantined")
            }
            # the optional providers export is counted only when it was given
            for export in ALL_EXPORTS
            if export in validation.summary["exports"]
        }
        # which evidence the audit had: a claims-only audit has no notes or plans
        # (remittances are what was paid, not evidence a rule reads: inputs counts them)
        summary["evidence"] = {
            e: e in validation.summary["exports"] for e in ALL_EXPORTS if e != "remits"
        }
        for export, counts in summary["inputs"].items():
            # rows the mapping's row filter dropped: read = accepted + quarantined + filtered
            filtered = validation.summary["exports"][export].get("rows_filtered", 0)
            if filtered:
                counts["rows_filtered"] = filtered
        if period is not None:
            summary["inputs"]["claims"]["rows_audited"] = result.lines_audited
            summary["inputs"]["claims"]["rows_outside_period"] = outside
    if period is not None:
        summary["period"] = period_summary(period, result.lines_audited, outside)
    return summary


def write_json(data: Any, path: Path) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def findings(
    validation: ValidationSummary,
    rules: RulesOutput,
    expectation_results: list[dict[str, Any]] | None,
    s: RunSettings,
    rows: Rows | None = None,
) -> Audited:
    """Assemble the findings and check them against the contract, and build summary.json with
    the expectations, dispositions and the diff against the previous run of the scope. Writes
    nothing: a finding that breaks the contract or a rejected reviewed-findings or history file
    leaves no partial outputs (flows/outputs/registry.py writes them afterwards). `rows`: the
    accepted claims and notes to read, when not the validation's own (a partitioned run's
    store, scanned)."""
    rows = Rows(validation.claims, validation.notes) if rows is None else rows
    lines, outside = split_period(rows.claims, s.period)
    result = audit_result(validation, rules, s.context, lines)
    found = result.findings
    # the contract check (polars, GIL released) runs while this thread builds the summary
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="findings") as pool:
        checked = pool.submit(FindingsSchema.validate, found)
        ran = {r for r, run in result.runs.items() if run.status in (PASSED, FINDINGS)}
        unclassified = unclassified_codes(lines, s.context.in_use.values(), all_rules(), ran)
        summary = summarize(result, validation, s.period, outside, unclassified)
        checked.result()
    if expectation_results is not None:
        summary["expectations"] = expectation_results
    marks = statuses = None
    trend: list[dict[str, Any]] = []
    if s.reviewed is not None:
        marks, counts = apply_dispositions(found, load_dispositions(s.reviewed))
        summary["dispositions"] = {"file": s.reviewed.name, **counts}
    if s.history is not None:
        audited = None if s.period is None else lines
        unchecked = [r for r, run in result.runs.items() if run.status in (NOT_APPLICABLE, FAILED)]
        diff = hist.compare_with_previous(
            s.history, s.scope, found, s.run_id, audited, unchecked=unchecked
        )
        statuses, trend = diff.statuses, hist.trend(s.history, s.scope)
        summary["history"] = diff.to_dict()
    changes = Changes(statuses=statuses, trend=tuple(trend), marks=marks)
    return Audited(s, validation, result, summary, changes, lines, rows.notes)


# ------------------------------------------------------------- writers (flows/outputs/registry.py)
def write_findings_csv(audited: Audited, path: Path) -> None:
    write_csv(audited.result.findings, path)


def write_findings_parquet(audited: Audited, path: Path) -> None:
    audited.result.findings.write_parquet(path)


def write_summary(audited: Audited, path: Path) -> None:
    write_json(audited.summary, path)


def has_status(audited: Audited) -> bool:
    """findings_status.csv is written when the run has a history or a reviewed-findings file."""
    return audited.changes.statuses is not None or audited.changes.marks is not None


def write_status(audited: Audited, path: Path) -> None:
    changes = audited.changes
    write_csv(status_rows(audited.result.findings, changes.statuses, changes.marks), path)
