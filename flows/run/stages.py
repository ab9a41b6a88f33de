"""The stages of one audit run, as plain functions: the direct runner (flows/run/direct.py) and
the Prefect flow (flows/run/prefect_flow.py) call the same functions, so both write the same bytes.

    settings(...)                  -> RunSettings    options resolved and checked, run id
                                                     (flows/run/settings.py)
    ingest(export, path, mapping)  -> RawExport      one export (the flow reads three at once)
    validate(raws, settings)       -> ValidationSummary   redaction, contract, quarantine
    expectations(validation, s)    -> list[dict]     Great Expectations, beside the rules
    run_families(validation, families, profile) -> RulesOutput   one engine pass; and
    rules_isolated / failed_families / merge_rules   (flows/run/rules.py)
    findings(validation, rules, expectations, s) -> FindingsOutput   (flows/outputs/findings.py)
        findings.csv/.parquet, summary.json (+ expectations, dispositions, history diff),
        findings_status.csv
    report(s, validation, found)   -> ReportOutputs  report.html, findings.xlsx
    record_history(s, validation, found) -> dict     the run in the history database; inputs

Stage names for timings (run.json, the benchmark of issue #6): STAGES. Nothing here imports
Prefect or Great Expectations; GE runs in a worker process started by `start_ge_preload`.
"""

from __future__ import annotations

from typing import Any

from flows.inputs.mapping import SourceMapping
from flows.inputs.read import RawExport, read_export
from flows.inputs.redact import redact_raw, redaction_key
from flows.inputs.validate import ValidationSummary, validate_raws
from flows.outputs.findings import (
    FINDINGS_CSV,
    FINDINGS_PARQUET,
    STATUS_CSV,
    SUMMARY_JSON,
    FindingsOutput,
    audit_frames,
    findings,
    summarize,
)
from flows.outputs.report import ReportOutputs, write_report_outputs
from flows.run.rules import (
    RulesOutput,
    describe_failure,
    failed_families,
    merge_rules,
    rules_isolated,
    run_families,
)
from flows.run.settings import PathLike, RunSettings, run_options, settings
from flows.state.history import describe_inputs, record_run
from schemas.contract import EXPORTS

STAGES = ("read", "validate", "expectations", "rules", "findings", "report", "history")
__all__ = [
    "FINDINGS_CSV",
    "FINDINGS_PARQUET",
    "STAGES",
    "STATUS_CSV",
    "SUMMARY_JSON",
    "FindingsOutput",
    "RulesOutput",
    "RunSettings",
    "audit_frames",
    "describe_failure",
    "expectations",
    "failed_families",
    "findings",
    "ingest",
    "merge_rules",
    "record_history",
    "report",
    "rules_isolated",
    "run_families",
    "run_options",
    "settings",
    "start_ge_preload",
    "summarize",
    "validate",
]


# ---------------------------------------------------------------- Great Expectations import
def start_ge_preload() -> None:
    """Start the Great Expectations worker process (once per process): its ~4 s import runs
    while the exports are read and validated, without holding this process's GIL
    (flows/expectations/runner.py)."""
    from flows.expectations.runner import start_worker

    start_worker()


# ----------------------------------------------------------------------------- read, validate
def ingest(export: str, path: PathLike, mapping: SourceMapping | None = None) -> RawExport:
    """Read one export (a file or a folder of files) onto contract column names."""
    return read_export(export, path, mapping)


def validate(raws: dict[str, RawExport], s: RunSettings) -> ValidationSummary:
    """Redact (when asked) right after reading, then check the contract and quarantine."""
    if s.redact:
        key = redaction_key()
        raws = {e: redact_raw(raws[e], key) for e in EXPORTS}
        del key  # used only here; never stored or written
    return validate_raws(raws, s.out_dir, s.mapping)


def expectations(validation: ValidationSummary, s: RunSettings) -> list[dict[str, Any]]:
    """Dataset expectations on the accepted rows. A crash inside GE does not stop the audit: it
    becomes one failed result saying so."""
    from flows.expectations.stage import run_expectations  # GE itself is imported lazily in there

    try:
        return run_expectations(
            validation.claims, validation.notes, validation.plans, period=s.period
        )
    except Exception as exc:
        return [
            {
                "name": "expectations_run",
                "export": "all",
                "success": False,
                "observed": {"error": describe_failure(exc)},
                "expected": {},
                "description": "The dataset expectations could not be evaluated.",
            }
        ]


def report(s: RunSettings, validation: ValidationSummary, out: FindingsOutput) -> ReportOutputs:
    extra = {"History scope": s.scope} if s.history is not None else {}
    if s.period is not None:
        extra["Audit period (expectations)"] = f"{s.period[0]} to {s.period[1]}"
    return write_report_outputs(
        s.out_dir,
        out.summary,
        out.result.findings,
        validation,
        profile=s.profile,
        redacted=s.redact,
        per_rule=s.per_rule,
        run_id=s.run_id,
        now=s.started_at,
        changes=out.changes,
        extra=extra,
        providers=out.result.providers,
    )


def record_history(
    s: RunSettings, validation: ValidationSummary, out: FindingsOutput
) -> dict[str, Any]:
    """Describe the inputs (names, SHA-256, rows) and, with history on, store the run."""
    rows = {e: validation.summary["exports"][e]["rows_read"] for e in EXPORTS}
    inputs = describe_inputs(s.claims, s.notes, s.plans, rows=rows)
    if s.history is not None:
        record_run(
            s.history,
            run_id=s.run_id,
            scope=s.scope,
            started_at=s.started_at,
            inputs=inputs,
            summary=out.summary,
            findings=out.result.findings,
            profile=s.profile,
        )
    return inputs
