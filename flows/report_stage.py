"""The report stage: report.html and findings.xlsx beside the findings a run has written.

I/O side of reports/: gathers the run's metadata (run id and time, program version, input files
with row counts and SHA-256, profile), the rule catalogue and the provider scorecard, then
renders the page and writes the workbook. The workbook gets the same formula neutralisation as
findings.csv (flows/exports.py) and xlsxwriter's `strings_to_formulas=False`, so a cell from the
billing system can never run as a formula.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from checks.profile import Profile
from checks.registry import all_rules
from flows.config import default_profiles, resolve_profile
from flows.exports import FORMULA_START, neutralise_formulas
from flows.provenance import program_version, sha256_file
from flows.validate_stage import ValidationSummary
from reports import metrics
from reports.catalogue import catalogue
from reports.formatting import fmt_pct
from reports.history_view import Changes
from reports.render import render_report
from reports.view_model import DEFAULT_PER_RULE, InputFile, RunInfo, build_view

REPORT_HTML = "report.html"
FINDINGS_XLSX = "findings.xlsx"
EXPORT_FILES = ("findings.csv", "findings.parquet", FINDINGS_XLSX)
# Excel's sheet limit less the header row; a larger family continues on "<family> (2)".
XLSX_MAX_ROWS = 1_048_575
XLSX_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    # rows are written in order, so xlsxwriter can flush them instead of holding a million
    "constant_memory": True,
}


@dataclass(frozen=True)
class ReportOutputs:
    report_html: Path
    findings_xlsx: Path
    run: RunInfo


def input_files(validation: Mapping[str, Any]) -> tuple[InputFile, ...]:
    """Every file read, from validation.json. A file's `source_file` is relative to the parent
    of the path given on the command line (flows/ingest.py), which is how it is found again."""
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
) -> ReportOutputs:
    """Write report.html and findings.xlsx to `out_dir` for a run's summary and findings.

    `run_id` / `now`: the run's id and start (default: new ones); `changes`: history and
    reviewer dispositions to show (reports/history_view.py); `extra`: more scope facts."""
    profiles = run_profiles(profile)
    card, period, facts = None, None, None
    if validation is not None:
        claims = validation.claims
        timed = timed_codes(claims, profile, profiles)
        card = metrics.provider_scorecard(claims, validation.notes, findings, timed)
        period, facts = metrics.service_period(claims), validation.summary
    run = run_info(facts, profile_label(profile, profiles), period, redacted=redacted, now=now,
                   run_id=run_id, extra=extra)  # fmt: skip
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
    xlsx_path = write_xlsx(findings, summary, run, out_dir / FINDINGS_XLSX)
    return ReportOutputs(html_path, xlsx_path, run)


# ----------------------------------------------------------------------------- findings.xlsx
def safe_text(value: object) -> str:
    """The CSV rule (flows/exports.py) for one cell written outside a findings frame."""
    text = "" if value is None else str(value)
    return "'" + text if re.match(FORMULA_START, text) else text


def sheet_names(families: Sequence[str]) -> dict[str, str]:
    """family -> a valid, unique Excel sheet name (31 characters, none of []:*?/\\)."""
    names: dict[str, str] = {}
    used = {"summary"}
    for family in families:
        base = re.sub(r"[\[\]:*?/\\']", "_", family)[:28] or "rules"
        name, n = base, 2
        while name.lower() in used:
            name, n = f"{base[:25]} ({n})", n + 1
        used.add(name.lower())
        names[family] = name
    return names


def _writers(
    ws: Any, schema: Mapping[str, pl.DataType], formats: Mapping[str, Any]
) -> list[Callable[[int, int, Any], Any]]:
    out: list[Callable[[int, int, Any], Any]] = []
    for name, dtype in schema.items():
        if dtype == pl.Date:
            out.append(lambda r, c, v: ws.write_datetime(r, c, v, formats["date"]))
        elif name == "amount_at_risk":
            out.append(lambda r, c, v: ws.write_number(r, c, v, formats["money"]))
        elif dtype.is_numeric():
            out.append(ws.write_number)
        else:
            # write_string, never write(): text is stored as text whatever it starts with
            out.append(lambda r, c, v: ws.write_string(r, c, str(v)))
    return out


def _findings_sheet(wb: Any, name: str, df: pl.DataFrame, formats: Mapping[str, Any]) -> None:
    ws = wb.add_worksheet(name)
    widths = {"message": 70, "evidence": 70, "finding_id": 34, "rule_id": 18}
    for c, column in enumerate(df.columns):
        ws.set_column(c, c, widths.get(column, 14))
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, list(df.columns), formats["head"])
    writers = _writers(ws, df.schema, formats)
    for r, row in enumerate(df.iter_rows(), start=1):
        for c, value in enumerate(row):
            if value is not None:
                writers[c](r, c, value)
    ws.autofilter(0, 0, max(df.height, 1), len(df.columns) - 1)


def _summary_sheet(
    wb: Any, summary: Mapping[str, Any], run: RunInfo, sheets: Mapping[str, str], fm: Any
) -> None:
    ws = wb.add_worksheet("summary")
    ws.set_column(0, 0, 26)
    ws.set_column(1, 1, 40)
    ws.set_column(2, 8, 16)
    row = 0

    def line(*cells: object, fmt: Any = None) -> None:
        nonlocal row
        for c, value in enumerate(cells):
            if isinstance(value, bool) or value is None or not isinstance(value, int | float):
                ws.write_string(row, c, safe_text(value), fmt)
            else:
                ws.write_number(row, c, value, fmt)
        row += 1

    period = "" if run.period is None else f"{run.period[0]} to {run.period[1]}"
    line("Therapy billing audit: findings", fmt=fm["title"])
    for label, value in (
        ("Run id", run.run_id),
        ("Run time", run.run_time),
        ("Program version", f"therapy-audit {run.version}"),
        ("Profile", run.profile),
        ("Period (dates of service)", period),
        ("Column mapping", run.mapping or "none"),
        ("Patient ids", "redacted (HMAC-SHA256)" if run.redacted else "as in the inputs"),
    ):
        line(label, value)
    row += 1
    line("Input file", "Export", "Rows read", "SHA-256", fmt=fm["head"])
    for f in run.inputs:
        line(f.name, f.export, f.rows_read, f.sha256)
    row += 1
    line("Headline", "Value", fmt=fm["head"])
    for key, label in (
        ("lines_audited", "Lines audited"),
        ("claims_audited", "Claims audited"),
        ("findings", "Findings"),
        ("lines_with_findings", "Lines with findings"),
        ("line_error_rate", "Line error rate"),
        ("amount_at_risk", "Amount at risk"),
    ):
        value = summary[key]
        line(label, fmt_pct(value) if key == "line_error_rate" else value)
    row += 1
    line("Severity", "Findings", "Lines", "Amount at risk", fmt=fm["head"])
    for sev, s in summary["by_severity"].items():
        line(sev, s["findings"], s["lines"], s["amount_at_risk"])
    row += 1
    line("Rule", "Title", "Family", "Status", "Findings", "Lines", "Amount at risk", "Sheet",
         "Error", fmt=fm["head"])  # fmt: skip
    for rule_id, r in summary["by_rule"].items():
        line(rule_id, r["title"], r["family"], r["status"], r["findings"], r["lines"],
             r["amount_at_risk"], sheets.get(r["family"], ""), r["error"] or "")  # fmt: skip
    row += 1
    line("Each rule family's sheet holds every finding of the run; a line flagged by several rules")
    line("is at risk once overall, at its largest amount (the headline amount).")


def write_xlsx(
    findings: pl.DataFrame, summary: Mapping[str, Any], run: RunInfo, path: Path
) -> Path:
    """findings.xlsx: a summary sheet, then one sheet per rule family with all its findings."""
    family_of = {rule_id: r["family"] for rule_id, r in summary["by_rule"].items()}
    families = sorted(set(family_of.values()))
    sheets = sheet_names(families)
    safe = neutralise_formulas(findings)
    family_col = pl.col("rule_id").replace_strict(
        family_of, default="other", return_dtype=pl.String
    )
    wb = xlsxwriter.Workbook(str(path), XLSX_OPTIONS)
    try:
        formats = {
            "head": wb.add_format({"bold": True, "bg_color": "#E8EEF7", "bottom": 1}),
            "title": wb.add_format({"bold": True, "font_size": 14}),
            "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
            "money": wb.add_format({"num_format": "#,##0.00"}),
        }
        _summary_sheet(wb, summary, run, sheets, formats)
        for family in families:
            part = safe.filter(family_col == family)
            for i, start in enumerate(range(0, max(part.height, 1), XLSX_MAX_ROWS)):
                name = sheets[family] if i == 0 else f"{sheets[family][:25]} ({i + 1})"
                _findings_sheet(wb, name, part.slice(start, XLSX_MAX_ROWS), formats)
    finally:
        wb.close()
    return path
