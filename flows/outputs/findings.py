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

from checks.engine import AuditResult, RuleRun, assemble, audit
from checks.registry import all_rules
from checks.summary import build_summary
from flows.inputs.validate import ValidationSummary
from flows.outputs.safe_csv import write_csv
from flows.run.config import default_profiles, fee_schedule, mue_table, resolve_profile
from flows.run.rules import RulesOutput
from flows.run.settings import RunSettings
from flows.state import history as hist
from flows.state.dispositions import MARK_SCHEMA, apply_dispositions, load_dispositions
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
        claims.lazy(),
        notes.lazy(),
        plans.lazy(),
        profiles=default_profiles(),
        fee_schedule=fee_schedule(),
        mue=mue_table(),
        override=override,
    )
    FindingsSchema.validate(result.findings)
    return result


def count_claims(claims: pl.DataFrame) -> int:
    """Distinct claim ids. Exports list a claim's lines together (ours come sorted), and then
    the count is the number of runs of equal ids, found in one pass over neighbours: 0.17 s at
    ten million lines where hashing every id took 1.7-2.0 s (issue #6). Any other order is
    hashed, on the streaming engine's threads."""
    if not claims.height:
        return 0
    ids = claims.get_column("claim_id")
    if ids.null_count() == 0 and ids.is_sorted():
        return int(ids.ne_missing(ids.shift()).sum())
    return int(claims.lazy().select(pl.col("claim_id").n_unique()).collect().item())


def audit_result(validation: ValidationSummary, rules: RulesOutput) -> AuditResult:
    """Findings in the output contract from the merged rule rows (what checks.engine.audit
    does after run_rules); `findings` checks them against the contract, on every run."""
    claims = validation.claims
    # every declared rule has a status, in catalogue order, whichever family ran it
    runs = {k: rules.runs.get(k, RuleRun(k)) for k in all_rules()}
    return AuditResult(
        findings=assemble(rules.raw, claims.lazy(), fee_schedule()),
        runs=runs,
        lines_audited=claims.height,
        claims_audited=count_claims(claims),
        lines_by_profile=rules.lines_by_profile,
        providers=rules.providers,
    )


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
