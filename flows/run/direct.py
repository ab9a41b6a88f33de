"""The direct mode: one audit run on this machine, with no Prefect import at all.

`run_audit` runs the stages of flows/run/stages.py in order, with the same concurrency as the
Prefect flow (flows/run/prefect_flow.py) but on plain threads: the three exports are read at once,
the dataset expectations run beside the rules, and great_expectations is imported in a background
thread from the start of the run. Same stage functions, same bytes: findings.csv of a direct
run is byte-identical to the flow's (tests/flows/).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from checks.engine import AuditResult
from checks.merge import RulesOutput
from flows.inputs.mapping import SourceMapping
from flows.inputs.validate import ValidationSummary
from flows.outputs.audited import Audited, Rows
from flows.outputs.files import (
    FINDINGS_CSV,
    FINDINGS_PARQUET,
    FINDINGS_XLSX,
    REPORT_HTML,
    STATUS_CSV,
    SUMMARY_JSON,
)
from flows.outputs.findings import findings
from flows.run import stages
from flows.run.progress import SILENT, Progress
from flows.run.progress_counts import (
    findings_counts,
    read_counts,
    rules_counts,
    validate_counts,
)
from flows.run.record import timer, write_run_json
from flows.run.remits import with_remits
from flows.run.rules import rules_isolated
from flows.run.settings import RunSettings, run_options, settings
from reports.view_model import DEFAULT_PER_RULE

PathLike = str | os.PathLike[str]


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
    run_id: str = ""
    run_json: Path | None = None
    status_csv: Path | None = None
    mode: str = "direct"
    timings: dict[str, float] = field(default_factory=dict)


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
    scope: str | None = None,
    history: PathLike | bool | None = True,
    reviewed: PathLike | None = None,
    period: str | tuple[Any, Any] | None = None,
    expectations: bool = True,
    run_id: str | None = None,
    providers: PathLike | None = None,
    remits: PathLike | None = None,
) -> AuditOutputs:
    """Validate the exports, audit the accepted rows and write every output to `out_dir`.
    `providers`: the optional providers export (a file or folder; validation.providers).
    `remits`: the optional remittances (835 files or a table; paid amounts from checks/remits.py).

    `redact`: patient ids become keyed hashes and note text is left out of every output
    (flows/inputs/redact.py). `report`: also write report.html and findings.xlsx, the page showing
    at most `per_rule` findings of each rule. `history`: True = the default database
    (`.therapy-audit/history.duckdb` beside the output folder), a path, or None/False = off;
    runs are compared within `scope` (default: derived from the input paths and profile).
    `reviewed`: a reviewed-findings file (flows/state/dispositions.py). `period`: the audit period
    "START..END": only the claim lines dated within it are audited, the others are counted and
    stay context (checks/period.py). `expectations`: False skips Great Expectations entirely."""
    s = settings(
        claims,
        notes,
        plans,
        out_dir,
        profile=profile,
        mapping=mapping,
        redact=redact,
        report=report,
        per_rule=per_rule,
        scope=scope,
        history=history,
        reviewed=reviewed,
        period=period,
        expectations=expectations,
        run_id=run_id,
        providers=providers,
        remits=remits,
    )
    if s.expectations:
        # first thing after the options are known good: the ~9 s import overlaps the reading
        stages.start_ge_preload()
    return run_direct(s)


def timed_expectations(
    validation: ValidationSummary, s: RunSettings, rows: Rows | None = None
) -> tuple[list[dict[str, Any]], float]:
    timings: dict[str, float] = {}
    with timer(timings, "expectations"):
        results = stages.expectations(validation, s, rows)
    return results, timings["expectations"]


def run_direct(s: RunSettings, progress: Progress = SILENT) -> AuditOutputs:
    """Every stage of one run, on threads of this process; `progress` hears of each stage as it
    ends, with its counts (flows/cli/progress.py on a terminal)."""
    timings: dict[str, float] = {}
    expected: Future[tuple[list[dict[str, Any]], float]] | None = None
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="audit") as pool:
        with timer(timings, "read"):
            paths = s.export_paths()
            reading = {e: pool.submit(stages.ingest, e, p, s.mapping) for e, p in paths.items()}
            # in export order, so the first bad export is the one reported (as before)
            raws = {e: reading[e].result() for e in paths}
            del reading  # validation frees each export's rows as it is checked: no other holder
        if s.expectations:
            stages.settle_ge_priority(raws["claims"].frame.height)
        progress.stage("read", timings["read"], read_counts(raws))
        with timer(timings, "validate"):
            validation = stages.validate(raws, s)
        progress.stage("validate", timings["validate"], validate_counts(validation.summary))
        del raws
        validation = with_remits(validation.rechunked())
        if s.expectations:
            expected = pool.submit(timed_expectations, validation, s)
        with timer(timings, "rules"):
            rules = rules_isolated(
                validation,
                s.context,
                period=s.period,
                providers=validation.providers,
                on_rule=progress.rule_done,
            )
        progress.stage("rules", timings["rules"], rules_counts(rules.runs))
        return finish(s, validation, rules, expected, timings, progress, "direct")


def finish(
    s: RunSettings,
    validation: ValidationSummary,
    rules: RulesOutput,
    expected: Future[tuple[list[dict[str, Any]], float]] | None,
    timings: dict[str, float],
    progress: Progress,
    mode: str,
    at_once: int = 2,
    rows: Rows | None = None,
) -> AuditOutputs:
    """The stages after the rules, with the expectations `expected` to wait for: findings,
    report, history and run.json (the direct and the partitioned runs end here), the outputs
    written `at_once` at a time; `rows`: the claims and notes to read when not the validation's
    (flows/outputs/findings.findings). Expectations not in yet are waited for only by the
    outputs that show them (summary.json, report.html), written last."""
    results = None
    if expected is not None and expected.done():
        results = _expectations_in(expected, timings, progress)
    # A small audit's rules end before the expectations worker has imported GE: the findings
    # and the outputs that do not show the expectations are made while it finishes. The
    # summary's expectations section keeps its place and is filled in once they are in.
    waiting = expected is not None and results is None
    pending = False if waiting else None
    with timer(timings, "findings"):
        audited = findings(validation, rules, [] if waiting else results, s, rows)
        written = stages.write("findings", audited, at_once, pending)
    with timer(timings, "report"):
        written |= stages.write("report", audited, at_once, pending)
    if waiting and expected is not None:
        audited.summary["expectations"] = _expectations_in(expected, timings, progress)
        with timer(timings, "findings"):
            written |= stages.write("findings", audited, at_once, True)
        with timer(timings, "report"):
            written |= stages.write("report", audited, at_once, True)
    progress.stage("findings", timings["findings"], findings_counts(audited.summary))
    if s.report:
        progress.stage("report", timings["report"], "report.html, findings.xlsx")
    with timer(timings, "history"):
        inputs = stages.record_history(s, validation, audited)
    if s.history is not None:
        progress.stage("history", timings["history"], f"scope {s.scope}")
    run_json = write_run_json(
        s.out_dir,
        run_id=s.run_id,
        mode=mode,
        started_at=s.started_at,
        inputs=inputs,
        options=run_options(s),
        timings=timings,
        stages=stages.STAGES,
    )
    return outputs(audited, written, run_json, mode, timings)


def _expectations_in(
    expected: Future[tuple[list[dict[str, Any]], float]],
    timings: dict[str, float],
    progress: Progress,
) -> list[dict[str, Any]]:
    """The expectations' results once they are in, their time and progress line recorded."""
    results, timings["expectations"] = expected.result()
    met = sum(1 for e in results if e["success"])
    progress.stage("expectations", timings["expectations"], f"{met} of {len(results)} met")
    return results


def outputs(
    audited: Audited,
    written: dict[str, Path],
    run_json: Path,
    mode: str,
    timings: dict[str, float],
) -> AuditOutputs:
    """What a run wrote, for the CLI's console summary and for callers of run_audit."""
    s = audited.settings
    return AuditOutputs(
        s.out_dir,
        written[FINDINGS_CSV],
        written[FINDINGS_PARQUET],
        written[SUMMARY_JSON],
        audited.summary,
        audited.result,
        audited.validation,
        report_html=written.get(REPORT_HTML),
        findings_xlsx=written.get(FINDINGS_XLSX),
        redacted=s.redact,
        run_id=s.run_id,
        run_json=run_json,
        status_csv=written.get(STATUS_CSV),
        mode=mode,
        timings={stage: timings.get(stage, 0.0) for stage in stages.STAGES},
    )
