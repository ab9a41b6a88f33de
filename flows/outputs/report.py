"""The report stage: report.html and findings.xlsx beside the findings a run has written.

I/O side of reports/: gathers the run's metadata (run id and time, program version, input files
with row counts and SHA-256, profile), the rule catalogue and the provider scorecard, then
renders the page and writes the workbook (flows/outputs/xlsx/workbook.py).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from checks.profile import Profile
from checks.registry import all_rules
from flows.inputs.validate import ValidationSummary
from flows.outputs.xlsx.workbook import write_xlsx
from flows.run.config import default_profiles, resolve_profile
from flows.run.provenance import program_version, sha256_file
from reports import metrics
from reports.catalogue import catalogue
from reports.history_view import Changes
from reports.render import render_report
from reports.view_model import DEFAULT_PER_RULE, InputFile, RunInfo, build_view

REPORT_HTML = "report.html"
FINDINGS_XLSX = "findings.xlsx"
EXPORT_FILES = ("findings.csv", "findings.parquet", FINDINGS_XLSX)


@dataclass(frozen=True)
class ReportOutputs:
    report_html: Path
    findings_xlsx: Path
    run: RunInfo


def input_files(validation: Mapping[str, Any]) -> tuple[InputFile, ...]:
    """Every file read, from validation.json. A file's `source_file` is relative to the parent
    of the path given on the command line (flows/inputs/read.py), which is how it is found again."""
    files = []
    for export, info in validation["exports"].items():
        base = Path(info["input"]).parent
        for f in info["files"]:
            path = base / f["source_file"]
            digest = sha256_file(path) if path.is_file() else "(file no longer readable)"
            files.append(InputFile(export, f["source_file"], int(f["rows_read"]), digest))
    return tuple(files)


def run_profiles(profile: str | None) -> dict[str, Profile]:
    if profile:
        chosen = resolve_profile(profile)
        return {chosen.name: chosen}
    return default_profiles()


def profile_label(profile: str | None, profiles: Mapping[str, Profile]) -> str:
    if profile:
        (chosen,) = profiles.values()
        return f"{chosen.name} for every line ({chosen.title})"
    return "by payer type (" + ", ".join(sorted(profiles)) + ")"


def timed_codes(
    claims: pl.DataFrame, profile: str | None, profiles: Mapping[str, Profile]
) -> dict[str, frozenset[str]]:
    """payer_type -> timed codes of the profile its lines were audited under."""
    if profile:
        (chosen,) = profiles.values()
        return {str(p): chosen.codes.timed for p in claims["payer_type"].unique().drop_nulls()}
    return {payer: p.codes.timed for p in profiles.values() for payer in p.payer_types}


def run_info(
    validation: Mapping[str, Any] | None,
    label: str,
    period: tuple[dt.date, dt.date] | None,
    *,
    redacted: bool,
    now: dt.datetime | None = None,
    run_id: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> RunInfo:
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    mapping = (validation or {}).get("mapping")
    return RunInfo(
        run_id=run_id or f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}",
        run_time=f"{now:%Y-%m-%d %H:%M:%S} UTC",
        version=program_version(),
        profile=label,
        inputs=input_files(validation) if validation else (),
        period=period,
        exports=EXPORT_FILES,
        redacted=redacted,
        mapping=None if not mapping else str(mapping.get("name") or mapping.get("file")),
        extra=dict(extra or {}),
    )


def write_report_outputs(
    out_dir: Path,
    summary: Mapping[str, Any],
    findings: pl.DataFrame,
    validation: ValidationSummary | None,
    *,
    profile: str | None = None,
    redacted: bool = False,
    per_rule: int = DEFAULT_PER_RULE,
    run_id: str | None = None,
    now: dt.datetime | None = None,
    changes: Changes | None = None,
    extra: Mapping[str, str] | None = None,
    providers: pl.DataFrame | None = None,
) -> ReportOutputs:
    """Write report.html and findings.xlsx to `out_dir` for a run's summary and findings.

    `run_id` / `now`: the run's id and start (default: new ones); `changes`: history and
    reviewer dispositions to show (reports/history_view.py); `extra`: more scope facts;
    `providers`: the engine's per-provider measures (checks/measures.py), if the run kept them."""
    profiles = run_profiles(profile)
    period = None if validation is None else metrics.service_period(validation.claims)
    run = run_info(None if validation is None else validation.summary,
                   profile_label(profile, profiles), period, redacted=redacted, now=now,
                   run_id=run_id, extra=extra)  # fmt: skip
    # the workbook (mostly zlib, which releases the GIL) is written while the page is built
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx") as pool:
        xlsx = pool.submit(write_xlsx, findings, summary, run, out_dir / FINDINGS_XLSX)
        html_path = _write_page(
            out_dir,
            summary,
            findings,
            validation,
            profile,
            profiles,
            run,
            per_rule=per_rule,
            changes=changes,
            providers=providers,
        )
        xlsx_path = xlsx.result()
    return ReportOutputs(html_path, xlsx_path, run)


def _write_page(
    out_dir: Path,
    summary: Mapping[str, Any],
    findings: pl.DataFrame,
    validation: ValidationSummary | None,
    profile: str | None,
    profiles: Mapping[str, Profile],
    run: RunInfo,
    *,
    per_rule: int,
    changes: Changes | None,
    providers: pl.DataFrame | None,
) -> Path:
    card, facts = None, None
    if validation is not None:
        claims = validation.claims
        timed = timed_codes(claims, profile, profiles)
        card = metrics.provider_scorecard(
            claims, validation.notes, findings, timed, measures=providers
        )
        facts = validation.summary
    view = build_view(
        summary,
        findings,
        facts,
        catalogue(all_rules(), profiles),
        run,
        card,
        per_rule=per_rule,
        changes=changes,
    )
    html_path = out_dir / REPORT_HTML
    html_path.write_text(render_report(view), encoding="utf-8")
    return html_path
