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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from checks.assemble import assemble_result, audit
from checks.dispositions import MARK_SCHEMA, apply_dispositions
from checks.engine import AuditResult
from checks.merge import RulesOutput
from checks.registry import all_rules
from checks.summary import build_summary
from flows.inputs.validate import ValidationSummary
from flows.outputs.safe_csv import write_csv
from flows.run.config import default_profiles, fee_schedule, mue_table, resolve_profile
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


@dataclass(frozen=True)
class FindingsOutput:
    result: AuditResult
    summary: dict[str, Any]
    changes: Changes
    findings_csv: Path
    findings_parquet: Path
    summary_json: Path
    status_csv: Path | None = None


def audit_frames(
    claims: pl.DataFrame, notes: pl.DataFrame, plans: pl.DataFrame, profile: str | None = None
) -> AuditResult:
    """Run every rule over accepted rows in one call; `profile` overrides payer_type."""
    override = resolve_profile(profile) if profile else None
    result = audit(
        claims,
        notes,
        plans,
        profiles=default_profiles(),
        fee_schedule=fee_schedule(),
        mue=mue_table(),
        override=override,
    )
    FindingsSchema.validate(result.findings)
    return result


def audit_result(validation: ValidationSummary, rules: RulesOutput) -> AuditResult:
    """Findings in the output contract from the merged rule results (checks/assemble.py, as
    `audit_frames`); `findings` checks them against the contract, on every run."""
    return assemble_result(validation.claims, rules, fee_schedule())


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
) -> FindingsOutput:
    """Assemble the findings, build summary.json with expectations, dispositions and the diff
    against the previous run of the scope, and write the findings files."""
    result = audit_result(validation, rules)
    found = result.findings
    # At 1.06 million findings (issue #6) the contract check takes 0.5 s, summary.json's
    # figures 0.2 s, findings.csv 0.9 s and findings.parquet 0.55 s, each mostly on one core
    # and with the GIL released by polars: the check runs beside the figures, then the two
    # files are written side by side while this thread finishes summary.json. Nothing is
    # written before the check and the reviewer's and history files are read, so a finding
    # that breaks the contract or a rejected input still leaves no partial outputs.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="findings") as pool:
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
        out = s.out_dir
        out.mkdir(parents=True, exist_ok=True)
        csv_path, parquet_path = out / FINDINGS_CSV, out / FINDINGS_PARQUET
        writes = [
            pool.submit(write_csv, found, csv_path),
            pool.submit(found.write_parquet, parquet_path),
        ]
        summary_path = write_json(summary, out / SUMMARY_JSON)
        status_path = None
        if statuses is not None or marks is not None:
            status_path = write_csv(status_frame(found, changes), out / STATUS_CSV)
        for job in writes:
            job.result()
    return FindingsOutput(
        result, summary, changes, csv_path, parquet_path, summary_path, status_path
    )
