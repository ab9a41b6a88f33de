"""The audit stage: validated frames in, findings.csv / findings.parquet / summary.json out.

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
from flows.validate_stage import ValidationSummary, validate_inputs
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
) -> AuditOutputs:
    """Validate the exports, audit the accepted rows and write every output to `out_dir`."""
    if profile:
        resolve_profile(profile)  # a bad profile is a configuration error before any work
    out = Path(out_dir)
    validation = validate_inputs(claims, notes, plans, out, mapping=mapping)
    result = audit_frames(validation.claims, validation.notes, validation.plans, profile)
    summary = summarize(result, validation)
    csv_path, parquet_path, summary_path = write_findings(result.findings, summary, out)
    return AuditOutputs(out, csv_path, parquet_path, summary_path, summary, result, validation)
