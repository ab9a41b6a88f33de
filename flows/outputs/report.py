"""The report stage: report.html and findings.xlsx beside the findings a run has written.

I/O side of reports/: gathers the run's metadata (run id and time, program version, input files
with row counts and SHA-256, profile), the rule catalogue and the provider scorecard, then
renders the page and writes the workbook (flows/outputs/xlsx/workbook.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from checks.engine import timed_codes_by_payer
from checks.period import in_period
from checks.registry import all_rules
from checks.rows import Lines, engine_of, payer_types
from checks.sampling.exposure import expected_exposure, exposure_of
from flows.inputs.validate import ValidationSummary
from flows.outputs.files import EXPORT_FILES
from flows.outputs.packets import packet_claims, packet_links
from flows.outputs.review import past_review
from flows.outputs.xlsx.workbook import write_xlsx
from flows.run.context import RunContext
from flows.run.provenance import program_version, sha256_file
from reports import metrics
from reports.catalogue import catalogue
from reports.render import render_report
from reports.view_model import InputFile, RunInfo, build_view

if TYPE_CHECKING:
    from flows.outputs.audited import Audited
    from flows.run.settings import RunSettings


def input_files(
    validation: Mapping[str, Any], paths: Mapping[tuple[str, str], Path] | None = None
) -> tuple[InputFile, ...]:
    """Every file read, from validation.json. A file is found by `paths` ((export, source_file)
    -> file: ValidationSummary.source_paths, the only way under --redact), else by its
    `source_file`, relative to the parent of the path given (flows/inputs/read.py)."""
    files = []
    for export, info in validation["exports"].items():
        base = Path(info["input"]).parent
        for f in info["files"]:
            path = (paths or {}).get((export, f["source_file"])) or base / f["source_file"]
            digest = sha256_file(path) if path.is_file() else "(file no longer readable)"
            files.append(InputFile(export, f["source_file"], int(f["rows_read"]), digest))
    return tuple(files)


def provider_names(validation: ValidationSummary) -> dict[str, str] | None:
    """NPI -> name from the providers export (None without one, or when it names nobody)."""
    providers = validation.providers
    if providers is None:
        return None
    named = providers.filter(pl.col("name").is_not_null()).select("npi", "name")
    return dict(named.iter_rows()) or None


def timed_codes(claims: Lines, context: RunContext) -> dict[str, frozenset[str]]:
    """payer_type -> timed codes of the profile its lines were audited under."""
    payers = payer_types(claims)
    return timed_codes_by_payer(payers, context.profiles, context.override)


def run_info(
    validation: Mapping[str, Any] | None,
    label: str,
    period: tuple[dt.date, dt.date] | None,
    *,
    redacted: bool,
    now: dt.datetime | None = None,
    run_id: str | None = None,
    extra: Mapping[str, str] | None = None,
    audit_period: bool = False,
    flow_run: tuple[str, str] | None = None,
    paths: Mapping[tuple[str, str], Path] | None = None,
) -> RunInfo:
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    mapping = (validation or {}).get("mapping")
    return RunInfo(
        run_id=run_id or f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}",
        run_time=f"{now:%Y-%m-%d %H:%M:%S} UTC",
        version=program_version(),
        profile=label,
        inputs=input_files(validation, paths) if validation else (),
        period=period,
        exports=EXPORT_FILES,
        redacted=redacted,
        mapping=None if not mapping else str(mapping.get("name") or mapping.get("file")),
        extra=dict(extra or {}),
        audit_period=audit_period,
        flow_run=flow_run,
    )


def run_info_of(s: RunSettings, validation: ValidationSummary, lines: Lines) -> RunInfo:
    """The report's and the workbook's account of the run: id, time, inputs, profile, scope.
    `lines`: the claim lines audited (every accepted line when the run has no period)."""
    extra = {"History scope": s.scope} if s.history is not None else {}
    # the audit period when the run has one, else the dates of service the claims span
    period = s.period if s.period is not None else metrics.service_period(lines)
    return run_info(validation.summary, s.context.label, period, redacted=s.redact,
                    now=s.started_at, run_id=s.run_id, extra=extra,
                    audit_period=s.period is not None, flow_run=s.flow_run,
                    paths=validation.source_paths)  # fmt: skip


def wanted(audited: Audited) -> bool:
    return audited.settings.report


def write_workbook(audited: Audited, path: Path) -> None:
    write_xlsx(audited.result.findings, audited.summary, audited.run_info, path)


def write_page(audited: Audited, path: Path) -> None:
    """report.html: the page for the run's summary, findings, scorecard and history."""
    s, validation, result = audited.settings, audited.validation, audited.result
    context, reduced = s.context, audited.result.reduced
    # the notes of the lines audited: the cloned-notes measure covers the audit period only
    notes = audited.notes if s.period is None else audited.notes.filter(in_period(s.period))
    card = metrics.provider_scorecard(
        audited.lines,
        notes,
        result.findings,
        timed_codes(audited.lines, context),
        measures=result.providers,
        notes_given="notes" not in validation.absent,
        cloned=None if reduced is None else reduced.cloned,
    )
    if reduced is None:
        review = past_review(audited.lines, context)
        lines, found = audited.lines.lazy(), result.findings.lazy()
        exposure = expected_exposure(lines, found, engine=engine_of(audited.lines))
    else:  # a partitioned run's, reduced beside its rules
        review, exposure = reduced.past_review, exposure_of(reduced.exposure)
    view = build_view(
        audited.summary,
        result.findings,
        validation.summary,
        catalogue(all_rules(), context.in_use),
        audited.run_info,
        card,
        per_rule=s.per_rule,
        changes=audited.changes,
        provider_names=provider_names(validation),
        past_review=review,
        exposure=exposure,
        packets=packet_links(packet_claims(audited)),
    )
    path.write_text(render_report(view), encoding="utf-8")
