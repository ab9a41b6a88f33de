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

import polars as pl

from checks.assemble import assemble_result
from checks.dispositions import MARK_SCHEMA, apply_dispositions
from checks.engine import AuditResult
from checks.merge import RulesOutput
from checks.registry import all_rules
from checks.summary import build_summary
from flows.inputs.validate import ValidationSummary
from flows.outputs.audited import Audited
from flows.outputs.safe_csv import write_csv
from flows.run.context import RunContext
from flows.run.settings import RunSettings
from flows.state import history as hist
from flows.state.dispositions import load_dispositions
from reports.history_view import Changes
from schemas.contract import EXPORTS
from schemas.findings import FindingsSchema

FINDINGS_CSV = "findings.csv"
FINDINGS_PARQUET = "findings.parquet"
SUMMARY_JSON = "summary.json"
STATUS_CSV = "findings_status.csv"


def audit_result(
    validation: ValidationSummary, rules: RulesOutput, context: RunContext
) -> AuditResult:
    """Findings in the output contract from the merged rule results (checks/assemble.py, the
    same path as checks.assemble.audit); `findings` checks them against the contract."""
    return assemble_result(validation.claims, rules, context.fee_schedule.lazy())


def summarize(result: AuditResult, validation: ValidationSummary | None) -> dict[str, Any]:
    summary = build_summary(result, all_rules())
    if validation is not None:
        summary["inputs"] = {
            export: {
                key: validation.summary["exports"][export][key]
                for key in ("rows_read", "rows_accepted", "rows_quarantined")
            }
            for export in EXPORTS
        }
    return summary


def write_json(data: Any, path: Path) -> Path:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    return path


def status_frame(findings: pl.DataFrame, changes: Changes) -> pl.DataFrame:
    """findings_status.csv: every current finding (findings order), then the resolved ones,
    with its status against the previous run and its reviewer disposition, if any."""
    ids = findings.select("finding_id", "rule_id", "claim_id", "line_number")
    if changes.statuses is not None:
        gone = changes.statuses.filter(pl.col("status") == "resolved").select(
            "finding_id", "rule_id", *claim_line_of("finding_id")
        )
        ids = pl.concat([ids, gone.cast(ids.schema)])
        ids = ids.join(
            changes.statuses.select("finding_id", "status"),
            on="finding_id",
            how="left",
            maintain_order="left",
        )
    else:
        ids = ids.with_columns(pl.lit(None, pl.String).alias("status"))
    if changes.marks is None:  # the same columns, empty, whether or not a file was given
        return ids.with_columns(
            pl.lit(None, dtype).alias(c) for c, dtype in MARK_SCHEMA.items() if c != "finding_id"
        )
    return ids.join(changes.marks, on="finding_id", how="left", maintain_order="left")


def claim_line_of(column: str) -> list[pl.Expr]:
    """claim_id and line_number from a finding id `RULE-ID:claim_id:line` (a claim id may hold
    ':', so the rule is before the first and the line after the last)."""
    rest = pl.col(column).str.splitn(":", 2).struct.field("field_1")
    return [
        rest.str.replace(r":\d+$", "").alias("claim_id"),
        rest.str.extract(r":(\d+)$", 1).cast(pl.Int64).alias("line_number"),
    ]


def findings(
    validation: ValidationSummary,
    rules: RulesOutput,
    expectation_results: list[dict[str, Any]] | None,
    s: RunSettings,
) -> Audited:
    """Assemble the findings and check them against the contract, and build summary.json with
    the expectations, dispositions and the diff against the previous run of the scope. Writes
    nothing: a finding that breaks the contract or a rejected reviewed-findings or history file
    leaves no partial outputs (flows/outputs/registry.py writes them afterwards)."""
    result = audit_result(validation, rules, s.context)
    found = result.findings
    # the contract check (polars, GIL released) runs while this thread builds the summary
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="findings") as pool:
        checked = pool.submit(FindingsSchema.validate, found)
        summary = summarize(result, validation)
        checked.result()
    if expectation_results is not None:
        summary["expectations"] = expectation_results
    marks = statuses = None
    trend: list[dict[str, Any]] = []
    if s.reviewed is not None:
        marks, counts = apply_dispositions(found, load_dispositions(s.reviewed))
        summary["dispositions"] = {"file": s.reviewed.name, **counts}
    if s.history is not None:
        diff = hist.compare_with_previous(s.history, s.scope, found, s.run_id)
        statuses, trend = diff.statuses, hist.trend(s.history, s.scope)
        summary["history"] = diff.to_dict()
    changes = Changes(statuses=statuses, trend=tuple(trend), marks=marks)
    return Audited(s, validation, result, summary, changes)


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
    write_csv(status_frame(audited.result.findings, audited.changes), path)
