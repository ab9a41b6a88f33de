"""The stages of one audit run, as plain functions: the direct runner (flows/run/direct.py) and
the Prefect flow (flows/run/prefect_flow.py) call the same functions, so both write the same
bytes.

    settings(...)  flows/run/settings.py  -> RunSettings   options checked, profiles and
                                                     reference tables loaded once
    ingest(export, path, mapping)  -> RawExport      one export (the runners read all at once:
                                                     claims, notes, plans and the optional
                                                     providers export)
    validate(raws, settings)       -> ValidationSummary   redaction, contract, quarantine
    expectations(validation, s)    -> list[dict]     Great Expectations, beside the rules
    rules_isolated / run_families  flows/run/rules.py  -> RulesOutput   the rule families
    findings(validation, rules, expectations, s)  flows/outputs/findings.py  -> Audited
                                                     findings, summary, history diff, dispositions
    write(stage, audited)          -> {file: path}   the outputs of a stage, from the one list in
                                                     flows/outputs/registry.py
    record_history(s, validation, audited) -> dict   the run in the history database; inputs

STAGES names the stages timed in run.json. Nothing here imports Prefect or Great Expectations; GE
runs in a worker process started by `start_ge_preload`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from checks.engine import describe_failure
from flows.inputs.mapping import SourceMapping
from flows.inputs.read import RawExport, read_export
from flows.inputs.redact import redact_raw, redaction_key
from flows.inputs.validate import ValidationSummary, validate_raws
from flows.outputs.audited import Audited, Rows
from flows.outputs.registry import write_outputs
from flows.run.settings import PathLike, RunSettings
from flows.state.history import describe_inputs, record_run

# From this many claim lines on, the expectations worker's import is done before the rules are,
# and at the normal priority it would slow them down (README, Performance).
GE_YIELDS_FROM_LINES = 250_000

STAGES = ("read", "validate", "expectations", "rules", "findings", "report", "history")


def start_ge_preload() -> None:
    """Start the Great Expectations worker process (once per process): its import runs while the
    exports are read and validated, without holding this process's GIL
    (flows/expectations/runner.py)."""
    from flows.expectations.runner import start_worker

    start_worker()


def settle_ge_priority(claim_lines: int) -> None:
    """The expectations worker yields the CPU to an audit of GE_YIELDS_FROM_LINES claim lines
    or more (flows/expectations/runner.py: lower_priority); below, it keeps the normal
    priority, as the run ends waiting for it."""
    if claim_lines >= GE_YIELDS_FROM_LINES:
        from flows.expectations.runner import lower_priority

        lower_priority()


def ingest(export: str, path: PathLike, mapping: SourceMapping | None = None) -> RawExport:
    """Read one export (a file or a folder of files) onto contract column names."""
    return read_export(export, path, mapping)


def validate(raws: dict[str, RawExport], s: RunSettings) -> ValidationSummary:
    """Redact (when asked) right after reading, then check the contract and quarantine."""
    if s.redact:
        key = redaction_key()
        for e in list(raws):  # in place, so the unredacted rows are freed as each is redacted
            raws[e] = redact_raw(raws[e], key)
        del key  # used only here; never stored or written
    return validate_raws(raws, s.out_dir, s.mapping, redacted=s.redact)


def expectations(
    validation: ValidationSummary, s: RunSettings, rows: Rows | None = None
) -> list[dict[str, Any]]:
    """Dataset expectations on the accepted rows (`rows`: the claims and notes when not the
    validation's own, a partitioned run's store scanned). A crash inside GE does not stop the
    audit: it becomes one failed result saying so."""
    from flows.expectations.stage import run_expectations  # GE itself is imported lazily there

    rows = Rows(validation.claims, validation.notes) if rows is None else rows
    try:
        return run_expectations(
            rows.claims,
            rows.notes,
            validation.plans,
            period=s.period,
            profiles=s.context.profiles.values(),
            absent=validation.absent,
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


def write(
    stage: str, audited: Audited, at_once: int = 2, expectations: bool | None = None
) -> dict[str, Path]:
    """The outputs of `stage` ("findings" or "report") that this run wants, written atomically,
    `at_once` at a time; `expectations`: those that show the expectations' results (True), the
    others (False) or all (None)."""
    return write_outputs(stage, audited, at_once, expectations)


def record_history(
    s: RunSettings, validation: ValidationSummary, audited: Audited
) -> dict[str, Any]:
    """Describe the inputs (names, paths, SHA-256, rows) and, with history on, store the run."""
    rows = {e: info["rows_read"] for e, info in validation.summary["exports"].items()}
    inputs = describe_inputs(
        s.claims, s.notes, s.plans, rows=rows, providers=s.providers, remits=s.remits
    )
    if s.redact:
        # a file or folder name may carry a patient id: the export and its hash instead
        inputs = {e: {**info, "name": f"{e}-{info['sha256'][:12]}"} for e, info in inputs.items()}
    if s.history is not None:
        record_run(
            s.history,
            run_id=s.run_id,
            scope=s.scope,
            started_at=s.started_at,
            inputs=inputs,
            summary=audited.summary,
            findings=audited.result.findings,
            profile=s.profile,
        )
    if s.redact:
        # no paths either: `sample draw` is given them (--claims ...) and checks their SHA-256
        return inputs
    # run.json (not the history, which keeps names only) gets each input's absolute path, so
    # that `sample draw` can re-read the universe and check it against its SHA-256
    given = s.export_paths()
    return {
        export: {**info, "path": os.path.abspath(str(given[export]))}
        for export, info in inputs.items()
    }
