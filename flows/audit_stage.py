"""The audit stage: validated frames in, findings.csv / findings.parquet / summary.json out,
then report.html and findings.xlsx beside them (flows/report_stage.py).

Plain functions that the CLI calls directly and a Prefect flow can wrap; the business logic is
in checks/ (rules, engine, summary).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from checks.engine import AuditResult, audit
from checks.registry import all_rules
from checks.summary import build_summary
from flows.config import default_profiles, fee_schedule, mue_table, resolve_profile
from flows.exports import write_csv
from flows.ingest import SourceMapping
from flows.redact import redaction_key, validate_redacted
from flows.report_stage import write_report_outputs
from flows.validate_stage import ValidationSummary, validate_inputs
from reports.view_model import DEFAULT_PER_RULE
from schemas.contract import EXPORTS
from schemas.findings import FindingsSchema

PathLike = str | os.PathLike[str]
FINDINGS_CSV = "findings.csv"
FINDINGS_PARQUET = "findings.parquet"
SUMMARY_JSON = "summary.json"


@dataclass(frozen=True)
class AuditOutputs:
    out_dir: Path
    findings_csv: Path
    findings_parquet: Path
    summary_json: Path
    summary: dict[str, Any]
    result: AuditResult
    validation: ValidationSummary
    report_html: Path | None = None
    findings_xlsx: Path | None = None
    redacted: bool = False


def audit_frames(
    claims: pl.DataFrame,
    notes: pl.DataFrame,
    plans: pl.DataFrame,
    profile: str | None = None,
) -> AuditResult:
    """Run every rule over accepted rows; `profile` (name or TOML file) overrides payer_type."""
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
    # the findings contract is checked on every run, not only in tests
    FindingsSchema.validate(result.findings)
    return result


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


def write_findings(
    findings: pl.DataFrame, summary: dict[str, Any], out_dir: Path
) -> tuple[Path, ...]:
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(findings, out_dir / FINDINGS_CSV)
    parquet_path = out_dir / FINDINGS_PARQUET
    findings.write_parquet(parquet_path)
    summary_path = out_dir / SUMMARY_JSON
    summary_path.write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return csv_path, parquet_path, summary_path


def run_audit(
    claims: PathLike,
    notes: PathLike,
    plans: PathLike,
    out_dir: PathLike,
    profile: str | None = None,
    mapping: PathLike | SourceMapping | None = None,
    *,
    redact: bool = False,
    report: bool = True,
    per_rule: int = DEFAULT_PER_RULE,
) -> AuditOutputs:
    """Validate the exports, audit the accepted rows and write every output to `out_dir`.

    `redact`: patient ids become keyed hashes and note text is left out of every output
    (flows/redact.py). `report`: also write report.html and findings.xlsx, the page showing at
    most `per_rule` findings of each rule."""
    if profile:
        resolve_profile(profile)  # a bad profile is a configuration error before any work
    out = Path(out_dir)
    if redact:
        key = redaction_key()
        validation = validate_redacted(claims, notes, plans, out, key, mapping=mapping)
        del key  # used only while reading; never stored or written
    else:
        validation = validate_inputs(claims, notes, plans, out, mapping=mapping)
    result = audit_frames(validation.claims, validation.notes, validation.plans, profile)
    summary = summarize(result, validation)
    csv_path, parquet_path, summary_path = write_findings(result.findings, summary, out)
    html_path = xlsx_path = None
    if report:
        written = write_report_outputs(
            out,
            summary,
            result.findings,
            validation,
            profile=profile,
            redacted=redact,
            per_rule=per_rule,
        )
        html_path, xlsx_path = written.report_html, written.findings_xlsx
    return AuditOutputs(
        out,
        csv_path,
        parquet_path,
        summary_path,
        summary,
        result,
        validation,
        report_html=html_path,
        findings_xlsx=xlsx_path,
        redacted=redact,
    )
