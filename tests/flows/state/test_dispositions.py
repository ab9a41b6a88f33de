"""Reviewed-findings files (flows/state/dispositions.py): the shipped example against the demo's
findings, the latest decision winning, forgiving headers and values, and bad files as one-line
InputErrors. Applying them to findings is tested in tests/checks/test_dispositions.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from checks.assemble import audit
from checks.dispositions import MARK_SCHEMA, apply_dispositions
from data import EXAMPLES
from flows.inputs.validate import ValidationSummary
from flows.run.context import load_context
from flows.state.dispositions import load_dispositions
from schemas.errors import InputError
from schemas.findings import FindingsSchema

EXAMPLE = EXAMPLES / "reviewed-findings.csv"
HEADER = "finding_id,disposition,reviewer,date,reason\n"
H = "(the header is row 1)"


@pytest.fixture(scope="module")
def demo_findings(validated_sample: ValidationSummary) -> pl.DataFrame:
    v = validated_sample
    c = load_context(None)
    fees, mue = c.fee_schedule.lazy(), c.mue.lazy()
    found = audit(v.claims, v.notes, v.plans, profiles=c.profiles, fee_schedule=fees, mue=mue)
    found = found.findings
    return FindingsSchema.validate(found)


def write(tmp_path: Path, text: str, name: str = "reviewed.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_example_file_matches_the_demo_findings(demo_findings: pl.DataFrame) -> None:
    reviewed = load_dispositions(EXAMPLE)
    before = demo_findings.clone()
    marks, counts = apply_dispositions(demo_findings, reviewed)
    assert demo_findings.equals(before)  # marked, not hidden or changed
    assert marks.schema == pl.Schema(MARK_SCHEMA)
    assert marks.height == reviewed.height == 5 and counts["stale"] == 0
    # the DOC-NO-NOTE finding was reviewed twice: the later decision holds
    doc = marks.filter(pl.col("finding_id") == "DOC-NO-NOTE:C00000000320:1").row(0, named=True)
    assert doc["disposition"] == "false-positive" and doc["reviewed_on"] == date(2026, 3, 18)
    assert counts["reviewed"]["findings"] + counts["unreviewed"]["findings"] == demo_findings.height
    assert {k: counts[k]["findings"] for k in ("accepted-risk", "corrected", "false-positive")} == {
        "accepted-risk": 2, "corrected": 1, "false-positive": 2,
    }  # fmt: skip


def test_dispositions_are_normalised_and_stale_rows_kept(tmp_path: Path) -> None:
    """Any case, spaces or underscores name a disposition; a row for a finding that is gone
    is read like any other (checks/dispositions.py counts it as stale)."""
    path = write(
        tmp_path,
        HEADER + "UNITS-8MIN:C1:1,Accepted Risk,ann,2026-02-01,\n"
        "DOC-NO-NOTE:C1:1,accepted_risk,ann,2026-02-01,x\n"
        "POC-MISSING:C9:1,corrected,bob,2026-02-01,voided claim\n",
    )
    got = load_dispositions(path)
    assert got.select("finding_id", "disposition", "reason").rows() == [
        ("DOC-NO-NOTE:C1:1", "accepted-risk", "x"),
        ("POC-MISSING:C9:1", "corrected", "voided claim"),
        ("UNITS-8MIN:C1:1", "accepted-risk", None),
    ]


def test_latest_date_wins_then_the_lower_row(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER + "UNITS-8MIN:C1:1,corrected,ann,2026-03-01,later\n"
        "UNITS-8MIN:C1:1,false-positive,bob,02/01/2026,earlier\n"
        "DOC-NO-NOTE:C2:1,corrected,ann,2026-02-01,first\n"
        "DOC-NO-NOTE:C2:1,accepted-risk,ann,2026-02-01,second\n",
    )
    got = load_dispositions(path)
    assert got.rows() == [
        ("DOC-NO-NOTE:C2:1", "accepted-risk", "ann", date(2026, 2, 1), "second"),
        ("UNITS-8MIN:C1:1", "corrected", "ann", date(2026, 3, 1), "later"),
    ]


def test_headers_are_forgiving_and_extra_columns_ignored(tmp_path: Path) -> None:
    header = " Finding-ID ,Disposition,Reviewer,Date,Notes\n"
    text = header + "\nUNITS-8MIN:C1:1,CORRECTED,ann,2026-02-01,-\n"
    got = load_dispositions(write(tmp_path, text))  # no reason column, a blank line
    assert got.rows() == [("UNITS-8MIN:C1:1", "corrected", "ann", date(2026, 2, 1), None)]


def test_xlsx_with_excel_dates(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "finding_id": ["UNITS-8MIN:C1:1"],
            "disposition": ["false-positive"],
            "reviewer": ["ann"],
            "date": [date(2026, 2, 3)],
            "reason": ["ok"],
        }
    )
    path = tmp_path / "reviewed.xlsx"
    frame.write_excel(path)
    assert load_dispositions(path).rows() == [
        ("UNITS-8MIN:C1:1", "false-positive", "ann", date(2026, 2, 3), "ok")
    ]


def test_empty_file_is_no_dispositions(tmp_path: Path) -> None:
    got = load_dispositions(write(tmp_path, HEADER))
    assert got.is_empty() and got.schema == pl.Schema(MARK_SCHEMA)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("UNITS-8MIN:C1:1,waived,ann,2026-02-01,x\n", f"row 2 {H}, column 'disposition'"),
        ("UNITS-8MIN:C1:1,corrected,ann,2026-02-01,x\nUNITS-8MIN:C2:1,corrected,,2026-02-01,x\n",
         f"row 3 {H}, column 'reviewer'"),
        ("UNITS-8MIN:C1:1,corrected,ann,31/31/2026,x\n", f"row 2 {H}, column 'date'"),
        ("UNITS-8MIN:C1:1,corrected,ann,,x\n", "column 'date': is blank"),
        ("C00000000024,corrected,ann,2026-02-01,x\n", "column 'finding_id': is not a finding id"),
        (",corrected,ann,2026-02-01,x\n", "column 'finding_id': is blank"),
    ],
)  # fmt: skip
def test_bad_rows_are_one_line_naming_file_row_and_column(
    tmp_path: Path, body: str, where: str
) -> None:
    with pytest.raises(InputError) as err:
        load_dispositions(write(tmp_path, HEADER + body))
    message = str(err.value)
    assert where in message and "reviewed.csv" in message and "\n" not in message
    assert "waived" not in message and "31/31" not in message  # cell values are never quoted


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.csv", None, "does not exist"),
        ("reviewed.txt", "x", "must be a .csv or .xlsx file"),
        ("reviewed.csv", "finding_id,disposition,date\n", "has no 'reviewer' column"),
        ("reviewed.xlsx", "not a workbook", "is not a readable XLSX workbook"),
    ],
)
def test_bad_files_are_one_line_input_errors(
    tmp_path: Path, name: str, content: str | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_dispositions(path)
    assert expected in str(err.value) and name in str(err.value) and "\n" not in str(err.value)
