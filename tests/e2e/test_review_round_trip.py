"""The review round trip: run -> a reviewer fills dispositions in findings.xlsx (as Excel would
save them: the cells added to the sheet XML) -> re-run with --reviewed that very workbook ->
summary.json, findings_status.csv and report.html show them, per rule and per provider."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest

from checks.dispositions import DISPOSITIONS
from flows.outputs.xlsx.sheet_xml import column_letter
from flows.outputs.xlsx.workbook import REVIEW_COLUMNS
from flows.run.direct import run_audit
from flows.state.dispositions import load_dispositions
from schemas.errors import InputError
from tests.support.paths import SAMPLE_INPUTS

# 2026-11-30 as an Excel serial day (the review_date column's date format shows it as such)
EXCEL_DAY = 46_356


def sheet_parts(z: zipfile.ZipFile) -> dict[str, str]:
    """sheet name -> its part in the package, from workbook.xml and its relationships."""
    book = z.read("xl/workbook.xml").decode()
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
    targets |= {k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)}
    return {
        name: "xl/" + targets[rid]
        for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="(rId\d+)"', book)
    }


def column_style(xml: str, n: int) -> int:
    """The style of the sheet's 1-based column n (its <col> element's)."""
    for lo, hi, style in re.findall(r'<col min="(\d+)" max="(\d+)"[^>]*?style="(\d+)"', xml):
        if int(lo) <= n <= int(hi):
            return int(style)
    return 0


def text_cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def fill(xml: str, reviews: list[tuple[str, str]]) -> tuple[str, list[str]]:
    """The sheet with the first len(reviews) findings reviewed (disposition, reason); returns
    the sheet and those findings' ids. The date is typed as Excel stores it: a serial day
    carrying the column's own (unlocked, date) style."""
    header = re.search(r'<row r="1">(.*?)</row>', xml, re.S)
    assert header is not None
    names = re.findall(r"<t>([^<]*)</t>", header.group(1))
    col = {n: column_letter(names.index(n)) for n in REVIEW_COLUMNS}
    style = column_style(xml, names.index("review_date") + 1)
    assert style
    rows = list(re.finditer(r"<row>(.*?)</row>", xml, re.S))
    ids: list[str] = []
    out, last = [], 0
    for k, ((disposition, reason), m) in enumerate(zip(reviews, rows, strict=False)):
        r = k + 2
        first = re.search(r"<t>([^<]*)</t>", m.group(1))
        assert first is not None
        ids.append(first.group(1))
        cells = (
            text_cell(f"{col['disposition']}{r}", disposition)
            + text_cell(f"{col['reviewer']}{r}", "Dana Officer")
            + f'<c r="{col["review_date"]}{r}" s="{style}"><v>{EXCEL_DAY}</v></c>'
            + text_cell(f"{col['reason']}{r}", reason)
        )
        out.append(xml[last : m.end() - len("</row>")] + cells + "</row>")
        last = m.end()
    out.append(xml[last:])
    return "".join(out), ids


def review_workbook(src: Path, dst: Path, plan: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Copy of the workbook with the planned reviews per sheet; the reviewed finding ids."""
    ids: list[str] = []
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        parts = sheet_parts(zin)
        wanted = {parts[name]: reviews for name, reviews in plan.items()}
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename in wanted:
                xml, got = fill(data.decode("utf-8"), wanted[info.filename])
                ids += got
                data = xml.encode("utf-8")
            zout.writestr(info, data)
    return ids


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("first") / "out"
    run_audit(*SAMPLE_INPUTS, out, history=None, expectations=False)
    return out


def test_the_workbook_is_a_protected_worksheet_with_open_review_columns(first_run: Path) -> None:
    with zipfile.ZipFile(first_run / "findings.xlsx") as z:
        parts = sheet_parts(z)
        styles = z.read("xl/styles.xml").decode()
        units = z.read(parts["units"]).decode()
        summary = z.read(parts["summary"]).decode()
    assert "<sheetProtection" in units and "<sheetProtection" not in summary
    assert "<f>" not in units  # no formula anywhere in the cells
    header = re.findall(r"<t>([^<]*)</t>", re.search(r'<row r="1">(.*?)</row>', units).group(1))
    assert header[-len(REVIEW_COLUMNS) :] == list(REVIEW_COLUMNS)
    letter = column_letter(header.index("disposition"))
    validation = re.search(r'<dataValidation type="list".*?sqref="([^"]+)".*?</dataValidation>',
                           units, re.S)  # fmt: skip
    assert validation is not None and validation.group(1).startswith(f"{letter}2:")
    assert f'"{",".join(DISPOSITIONS)}"' in validation.group(0)
    # the review columns' style is unlocked; the cells' default style (0) is locked
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S).group(1)
    xf = re.findall(r"<xf [^>]*?(?:/>|>.*?</xf>)", xfs, re.S)
    for n in range(len(header) - len(REVIEW_COLUMNS) + 1, len(header) + 1):
        assert 'locked="0"' in xf[column_style(units, n)]
    assert 'locked="0"' not in xf[0]


def test_reviewed_workbook_round_trip(first_run: Path, tmp_path: Path) -> None:
    workbook = tmp_path / "findings-reviewed.xlsx"
    ids = review_workbook(
        first_run / "findings.xlsx",
        workbook,
        {
            "units": [("corrected", "refund sent"), ("false-positive", "notes found"),
                      ("Accepted Risk", "")],
            "documentation": [("corrected", "note signed")],
        },
    )  # fmt: skip
    assert len(ids) == 4
    out = tmp_path / "second"
    run_audit(*SAMPLE_INPUTS, out, history=None, expectations=False, reviewed=workbook)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    d = summary["dispositions"]
    assert d["file"] == workbook.name
    assert d["reviewed"]["findings"] == 4 and d["stale"] == 0
    assert d["corrected"]["findings"] == 2 and d["false-positive"]["findings"] == 1
    assert d["accepted-risk"]["findings"] == 1
    assert d["reviewed"]["findings"] + d["unreviewed"]["findings"] == summary["findings"]
    by_rule = {r: n for r, n in d["by_rule"].items() if n["reviewed"]}
    expected_rules: dict[str, int] = {}
    for fid in ids:
        expected_rules[fid.split(":", 1)[0]] = expected_rules.get(fid.split(":", 1)[0], 0) + 1
    assert {r: n["reviewed"] for r, n in by_rule.items()} == expected_rules
    for rule_id, n in d["by_rule"].items():
        assert n["reviewed"] + n["unreviewed"] == summary["by_rule"][rule_id]["findings"]
    assert sum(n["reviewed"] for n in d["by_provider"].values()) == 4

    status = pl.read_csv(out / "findings_status.csv", infer_schema_length=0)
    marked = status.filter(pl.col("disposition").is_not_null())
    assert sorted(marked["finding_id"]) == sorted(ids)
    assert set(marked["reviewer"]) == {"Dana Officer"}
    assert set(marked["reviewed_on"]) == {"2026-11-30"}

    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<strong data-reviews="reviewed">4</strong>' in html
    table = re.search(r'id="reviews-by-rule">.*?</table>', html, re.S)
    assert table is not None
    for rule_id, n in expected_rules.items():
        row = re.search(rf'<tr data-rule="{rule_id}">.*?</tr>', table.group(0), re.S)
        assert row is not None and f'data-field="reviewed" data-value="{n}"' in row.group(0)
    assert 'id="reviews-by-provider"' in html


def test_an_unreviewed_workbook_is_no_dispositions(first_run: Path, tmp_path: Path) -> None:
    """The workbook as written (nothing filled in) is a valid, empty review."""
    copy = tmp_path / "findings.xlsx"
    shutil.copy(first_run / "findings.xlsx", copy)
    assert load_dispositions(copy).is_empty()


def test_a_bad_disposition_in_the_workbook_names_sheet_row_and_column(
    first_run: Path, tmp_path: Path
) -> None:
    workbook = tmp_path / "findings.xlsx"
    review_workbook(first_run / "findings.xlsx", workbook, {"units": [("x", ""), ("waived", "")]})
    with pytest.raises(InputError) as err:
        load_dispositions(workbook)
    message = str(err.value)
    assert "sheet 'units', row 2 (the header is row 1), column 'disposition'" in message
    assert "waived" not in message and "\n" not in message
