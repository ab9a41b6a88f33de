"""findings.xlsx: a summary sheet, then one sheet per rule family with every finding.

xlsxwriter writes the workbook's frame (styles, the summary sheet, each family sheet's header,
column widths, frozen pane and autofilter); the family sheets' rows are then built as SpreadsheetML
by polars expressions (flows/outputs/xlsx/sheet_xml.py) and streamed into the package, deflated on
two threads (flows/outputs/xlsx/zipdeflate.py), because writing them cell by cell through xlsxwriter
made the workbook the slowest part of a large audit.

Text cells get the same formula neutralisation as findings.csv (flows/outputs/safe_csv.py) and are
written as inline strings, never as formulas.
"""

from __future__ import annotations

import itertools
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from checks.dispositions import DISPOSITIONS
from flows.outputs.safe_csv import FORMULA_START, neutralise_formulas
from flows.outputs.xlsx.sheet_xml import chunk_xml, column_letter
from flows.outputs.xlsx.zipdeflate import write_deflated
from reports.formatting import fmt_pct, words
from reports.view_model import RunInfo

# Excel's sheet limit less the header row; a larger family continues on "<family> (2)".
XLSX_MAX_ROWS = 1_048_575
XLSX_OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "constant_memory": True,
}
# Rows built and compressed per step: bounds memory whatever the number of findings.
CHUNK_ROWS = 100_000
WIDTHS = {"message": 70, "evidence": 70, "finding_id": 34, "rule_id": 18, "reason": 40}
# The reviewer's columns after the finding's: blank, unlocked, and read back by --reviewed
# (flows/state/dispositions.py); the finding's own cells are locked (sheet protection, no
# password) so a review cannot change what was found.
REVIEW_COLUMNS = ("disposition", "reviewer", "review_date", "reason")
# what protection still lets a reviewer do: filter, sort and resize
PROTECT_OPTIONS = {
    "autofilter": True,
    "sort": True,
    "format_columns": True,
    "format_rows": True,
    "select_locked_cells": True,
    "select_unlocked_cells": True,
}


def safe_text(value: object) -> str:
    """The CSV rule (flows/outputs/safe_csv.py) for one cell written outside a findings frame."""
    text = "" if value is None else str(value)
    return "'" + text if re.match(FORMULA_START, text) else text


def sheet_names(families: Sequence[str]) -> dict[str, str]:
    """family -> a valid, unique Excel sheet name (31 characters, none of []:*?/\\)."""
    names: dict[str, str] = {}
    used = {"summary"}
    for family in families:
        # a reader's words, not the module name: "plan_of_care" -> "plan of care"
        base = re.sub(r"[\[\]:*?/\\']", " ", words(family)).strip()[:28] or "rules"
        name, n = base, 2
        while name.lower() in used:
            name, n = f"{base[:25]} ({n})", n + 1
        used.add(name.lower())
        names[family] = name
    return names


def sheet_rows(df: pl.DataFrame, styles: Mapping[str, int]) -> Iterator[bytes]:
    """`<row>` elements for `df`'s rows as sheet rows 2.., in chunks of CHUNK_ROWS."""
    for start in range(0, df.height, CHUNK_ROWS):
        yield chunk_xml(df.slice(start, CHUNK_ROWS), start + 2, styles)


def _prefetched(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """`chunks`, the next one built on a thread while the caller deflates this one (polars and
    zlib both release the GIL, so the two overlap on two cores)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx") as pool:
        pending = pool.submit(next, chunks, None)
        while (chunk := pending.result()) is not None:
            pending = pool.submit(next, chunks, None)
            yield chunk


def _family_sheet(
    wb: Any, name: str, df: pl.DataFrame, height: int, formats: Mapping[str, Any]
) -> None:
    """The sheet's frame for `height` rows of `df`'s columns; the rows are streamed in
    afterwards (fill_rows). The review columns hold no cell: their unlocked column format is
    what a reviewer's entry takes."""
    ws = wb.add_worksheet(name)
    for c, column in enumerate(df.columns):
        fmt = formats["date"] if df.schema[column] == pl.Date else None
        fmt = formats["money"] if column == "amount_at_risk" else fmt
        # the column formats also register the two number formats the streamed cells use
        ws.set_column(c, c, WIDTHS.get(column, 14), fmt)
    first = df.width
    for c, column in enumerate(REVIEW_COLUMNS, start=first):
        fmt = formats["review_date"] if column == "review_date" else formats["review"]
        ws.set_column(c, c, WIDTHS.get(column, 16), fmt)
    last_row = max(height, 1)
    ws.data_validation(
        1,
        first,
        last_row,
        first,
        {
            "validate": "list",
            "source": list(DISPOSITIONS),
            "error_title": "Disposition",
            "error_message": f"Choose one of {', '.join(DISPOSITIONS)}.",
        },
    )
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, [*df.columns, *REVIEW_COLUMNS], formats["head"])
    ws.autofilter(0, 0, last_row, first + len(REVIEW_COLUMNS) - 1)
    ws.protect("", PROTECT_OPTIONS)


Body = Callable[[], pl.DataFrame]


def fill_rows(path: Path, bodies: Mapping[str, Body], styles: Mapping[str, int]) -> None:
    """Rewrite the package at `path` with each sheet part in `bodies` (e.g.
    "xl/worksheets/sheet2.xml") holding its frame's rows after the header row; each frame is
    made when its sheet is written and dropped after it, so one sheet's rows are in memory."""
    tmp = path.with_name(path.name + ".part")
    try:
        _refill(path, tmp, bodies, styles)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _refill(path: Path, tmp: Path, bodies: Mapping[str, Body], styles: Mapping[str, int]) -> None:
    with (
        zipfile.ZipFile(path) as src,
        open(tmp, "w+b") as fh,
        zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            body = bodies.get(info.filename)
            df = None if body is None else body()
            if df is None or df.is_empty():
                dst.writestr(info, data)
                continue
            xml = data.decode("utf-8")
            head, tail = xml.split("</sheetData>", 1)
            # the header row is the sheet's widest row (the review columns have no body cells)
            found = re.search(r'<dimension ref="A1:([A-Z]+)1"/>', head)
            last = found.group(1) if found else column_letter(df.width - 1)
            dimension = f'<dimension ref="A1:{last}{df.height + 1}"/>'
            head = re.sub(r'<dimension ref="[^"]*"/>', dimension, head, count=1)
            part = itertools.chain(
                [head.encode("utf-8")],
                _prefetched(sheet_rows(df, styles)),
                [("</sheetData>" + tail).encode("utf-8")],
            )
            write_deflated(dst, fh, zipfile.ZipInfo(info.filename, info.date_time), part)


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
    line("Recommended action", "Rules", "Findings", "Lines", "Amount at risk", fmt=fm["head"])
    for a in summary.get("by_action", {}).values():
        if a["rules"]:
            line(a["label"], ", ".join(a["rules"]), a["findings"], a["lines"], a["amount_at_risk"])
    row += 1
    # Reason: why a rule is "not applicable" (an optional input not given, say)
    line("Rule", "Title", "Family", "Status", "Findings", "Lines", "Amount at risk", "Sheet",
         "Error", "Reason", "Recommended action", fmt=fm["head"])  # fmt: skip
    for rule_id, r in summary["by_rule"].items():
        line(rule_id, r["title"], r["family"], r["status"], r["findings"], r["lines"],
             r["amount_at_risk"], sheets.get(r["family"], ""), r["error"] or "",
             r.get("reason") or "", r.get("action_label") or "")  # fmt: skip
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
    action_of = {rule_id: r.get("action_label") or "" for rule_id, r in summary["by_rule"].items()}
    family_col = pl.col("rule_id").replace_strict(
        family_of, default="other", return_dtype=pl.String
    )
    # each family's rows by their place in the findings: a sheet's rows are gathered only when
    # the sheet is written (fill_rows), never every family's copy at once
    grouped = (
        findings.select(family_col.alias("family"))
        .with_row_index("row")
        .group_by("family")
        .agg(pl.col("row").sort())  # in the findings' order
    )
    rows_of = {
        family: grouped.filter(pl.col("family") == family).get_column("row").explode()
        for family in grouped.get_column("family")
    }

    def body(rows: pl.Series) -> Body:
        # each finding carries its rule's recommended action (one column, no per-row Python)
        return lambda: neutralise_formulas(findings[rows]).with_columns(
            pl.col("rule_id")
            .replace_strict(action_of, default="", return_dtype=pl.String)
            .alias("recommended_action")
        )

    columns = body(pl.Series("row", [], pl.UInt32))()  # the sheets' columns
    parts: list[Body] = []
    wb = xlsxwriter.Workbook(str(path), XLSX_OPTIONS)
    try:
        formats = {
            "head": wb.add_format({"bold": True, "bg_color": "#E8EEF7", "bottom": 1}),
            "title": wb.add_format({"bold": True, "font_size": 14}),
            "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
            "money": wb.add_format({"num_format": "#,##0.00"}),
            "review": wb.add_format({"locked": False, "bg_color": "#FFF8DC"}),
            "review_date": wb.add_format(
                {"locked": False, "bg_color": "#FFF8DC", "num_format": "yyyy-mm-dd"}
            ),
        }
        _summary_sheet(wb, summary, run, sheets, formats)
        for family in families:
            rows = rows_of.get(family, pl.Series("row", [], pl.UInt32))
            for i, start in enumerate(range(0, max(rows.len(), 1), XLSX_MAX_ROWS)):
                name = sheets[family] if i == 0 else f"{sheets[family][:25]} ({i + 1})"
                sheet = rows.slice(start, XLSX_MAX_ROWS)
                parts.append(body(sheet))
                _family_sheet(wb, name, columns, sheet.len(), formats)
    finally:
        wb.close()
    # xlsxwriter numbers its sheet parts in the order the sheets were added; summary is first
    bodies = {f"xl/worksheets/sheet{i}.xml": df for i, df in enumerate(parts, start=2)}
    styles = {"date": formats["date"].xf_index, "money": formats["money"].xf_index}
    fill_rows(path, bodies, styles)
    return path
