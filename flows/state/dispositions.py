"""Reviewer dispositions: reading the reviewed-findings file that the next run applies to its
findings (checks/dispositions.py applies it).

A compliance reviewer records, per finding, what was decided. The next audit MARKS those
findings (they stay in findings.csv exactly as the findings contract says) and counts them
separately, so "what was reviewed and accepted" is part of the record, not a silent filter.

The file is a CSV, an XLSX's first sheet, or findings.xlsx itself as the reviewer filled it in:
every sheet of a workbook whose header has a finding_id column is read (its family sheets; the
summary sheet is not), and a row none of whose review columns is filled is a finding not
reviewed yet, left out. Headers are matched without regard to case, surrounding spaces, or "-"
/ " " versus "_"; `review_date` and `reviewed_on` also name the date; other columns are ignored
(so a copy of findings.csv with the columns added works):

| column | required | what |
|---|---|---|
| finding_id | yes | as in findings.csv: `RULE-ID:claim_id:line` |
| disposition | yes | accepted-risk, corrected or false-positive (any case; "accepted risk" ok) |
| reviewer | yes | who decided |
| date | yes | when: ISO `2026-03-02` or US `03/02/2026` (or an Excel date) |
| reason | no | why (free text; may be blank) |

A finding_id listed more than once: the row with the LATEST date wins (on the same date, the
lower row in the file), so a reviewer can append a new decision instead of editing the old one.

API:

    load_dispositions(path) -> pl.DataFrame
        columns finding_id, disposition, reviewer, reviewed_on (Date), reason
        (checks.dispositions.MARK_SCHEMA); one row per finding_id, sorted by finding_id. A bad
        file raises schemas.errors.InputError with one line naming the file, the row (the header
        is row 1; and the sheet, for a workbook of several) and the column, never a cell value.

checks.dispositions.apply_dispositions(findings, dispositions) then gives the marks and counts.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import polars as pl

from checks.dispositions import DISPOSITIONS, MARK_SCHEMA
from flows.inputs.formats import listed, reader_for
from flows.inputs.formats.xlsx import read_sheets
from flows.inputs.mapping import ExportMapping
from schemas.errors import InputError
from schemas.text import as_text, blank_to_null

REQUIRED = ("finding_id", "disposition", "reviewer", "date")
OPTIONAL = ("reason",)
# other names of a column: findings.xlsx's review_date, findings_status.csv's reviewed_on
ALIASES = {"review_date": "date", "reviewed_on": "date"}
# The findings contract's id: rule id, claim id, line number (schemas/findings.py).
FINDING_ID_PATTERN = r"^[A-Z]+(?:-[A-Z0-9]+)+:.+:\d+$"
_ROW = "_row"

log = logging.getLogger(__name__)


def _header_key(header: str) -> str:
    return "_".join(header.replace("\ufeff", "").strip().casefold().replace("-", " ").split())


# A reviewer edits a copy of findings.csv or its workbook, so of the input types only these two.
READ_SUFFIXES = (".csv", ".xlsx")


def _read(path: Path, label: str) -> pl.DataFrame:
    """The file through the input formats' own reader of its type (flows/inputs/formats), with
    its own headers; an empty file is an empty frame here, not an error."""
    if path.suffix.lower() not in READ_SUFFIXES:
        raise InputError(f"{label} must be a {listed(READ_SUFFIXES)} file")
    if path.is_file() and path.stat().st_size == 0:
        return pl.DataFrame()
    return reader_for(path)(label, path, ExportMapping()).frame


def _parse_date(text: pl.Expr) -> pl.Expr:
    # ISO, US month/day/year, or an Excel date-time read back as "2026-03-02 00:00:00"
    iso = text.str.replace(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", "${3}-${1}-${2}")
    day = iso.str.extract(r"^(\d{4}-\d{1,2}-\d{1,2})(?:[ T][\d:.]*)?$", 1)
    return day.str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def _first_problem(frame: pl.DataFrame) -> tuple[int, str, str] | None:
    checks = [
        ("finding_id", pl.col("finding_id").is_null(), "is blank"),
        (
            "finding_id",
            ~pl.col("finding_id").str.contains(FINDING_ID_PATTERN),
            "is not a finding id like UNITS-8MIN:C123:1 (copy it from findings.csv)",
        ),
        ("disposition", pl.col("disposition").is_null(), "is blank"),
        (
            "disposition",
            ~pl.col("disposition").is_in(DISPOSITIONS),
            f"must be one of {', '.join(DISPOSITIONS)}",
        ),
        ("reviewer", pl.col("reviewer").is_null(), "is blank"),
        ("date", pl.col("date").is_null(), "is blank"),
        ("date", pl.col("reviewed_on").is_null(), "is not a date (use YYYY-MM-DD or MM/DD/YYYY)"),
    ]
    found: list[tuple[int, int, str, str]] = []
    for order, (column, bad, problem) in enumerate(checks):
        rows = frame.filter(bad.fill_null(False))[_ROW]
        if rows.len():
            found.append((min(rows.to_list()), order, column, problem))
    if not found:
        return None
    row, _, column, problem = min(found)
    return row, column, problem


def _sheets(path: Path, label: str) -> list[tuple[str, pl.DataFrame]]:
    """(label, frame) of each table to read: every sheet of a workbook whose header has a
    finding_id column (findings.xlsx's family sheets, the summary sheet left out), else the
    file's first sheet or the CSV itself."""
    if path.suffix.lower() != ".xlsx" or (path.is_file() and path.stat().st_size == 0):
        return [(label, _read(path, label))]
    if path.suffix.lower() not in READ_SUFFIXES:
        raise InputError(f"{label} must be a {listed(READ_SUFFIXES)} file")
    sheets = read_sheets(label, path)
    keyed = [
        (f"{label}, sheet '{name}'" if len(sheets) > 1 else label, frame)
        for name, frame in sheets.items()
        if "finding_id" in {_header_key(str(c)) for c in frame.columns}
    ]
    return keyed or [(label, next(iter(sheets.values()), pl.DataFrame()))]


def _parse(raw: pl.DataFrame, label: str) -> pl.DataFrame:
    """One table's reviewed rows, checked: the REQUIRED and OPTIONAL columns, reviewed_on and
    the spreadsheet row (_ROW). A row with none of the review columns filled is a finding not
    reviewed yet (findings.xlsx lists every finding) and is left out."""
    by_key: dict[str, str] = {}
    for name in raw.columns:
        key = _header_key(name)
        by_key.setdefault(ALIASES.get(key, key), name)
    for column in REQUIRED:
        if column not in by_key:
            raise InputError(f"{label} has no '{column}' column (needs {', '.join(REQUIRED)})")
    text = raw.select(
        blank_to_null(as_text(pl.col(by_key[c]), raw.schema[by_key[c]])).alias(c)
        if c in by_key
        else pl.lit(None, pl.String).alias(c)
        for c in (*REQUIRED, *OPTIONAL)
    )
    # Data row 1 is spreadsheet row 2: messages use the number the reviewer sees in Excel.
    review = [c for c in (*REQUIRED, *OPTIONAL) if c != "finding_id"]
    text = text.with_row_index(_ROW, offset=2).filter(
        pl.any_horizontal(pl.col(c).is_not_null() for c in review)
    )
    kind = pl.col("disposition").str.to_lowercase().str.replace_all(r"[\s_]+", "-")
    parsed = text.with_columns(
        kind.alias("disposition"), _parse_date(pl.col("date")).alias("reviewed_on")
    )
    problem = _first_problem(parsed)
    if problem:
        row, column, what = problem
        raise InputError(f"{label}, row {row} (the header is row 1), column '{column}': {what}")
    return parsed


def load_dispositions(path: str | os.PathLike[str]) -> pl.DataFrame:
    """Read and check a reviewed-findings file; one row per finding_id (latest date wins)."""
    path = Path(path)
    label = f"reviewed-findings file '{path}'"
    if not path.is_file():
        raise InputError(f"{label} does not exist")
    parts = [
        _parse(raw, where).with_columns(pl.lit(i, pl.Int64).alias("_sheet"))
        for i, (where, raw) in enumerate(_sheets(path, label))
    ]
    parsed = pl.concat(parts, how="vertical_relaxed")
    latest = (
        parsed.sort("reviewed_on", "_sheet", _ROW)
        .unique("finding_id", keep="last", maintain_order=True)
        .sort("finding_id")
    )
    if latest.height < parsed.height:
        log.info("%d reviewed finding(s) superseded by a later row", parsed.height - latest.height)
    return latest.select("finding_id", "disposition", "reviewer", "reviewed_on", "reason").cast(
        MARK_SCHEMA
    )
