"""findings.xlsx (flows/outputs/xlsx/workbook.py): a summary sheet and one sheet per rule family
holding every finding, formula neutralisation (with the CSV's), rows streamed in chunks that read
back exactly, header-only sheets when there is nothing to list, and valid unique sheet names."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import polars as pl
import pytest

from flows.outputs.safe_csv import write_csv
from flows.outputs.xlsx import sheet_xml, workbook
from flows.outputs.xlsx.workbook import sheet_names, write_xlsx
from flows.run.direct import AuditOutputs
from reports.view_model import InputFile, RunInfo
from schemas.findings import FINDINGS_SCHEMA
from tests.support import report_fixture as fx

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rcmd"]


def hostile_findings() -> pl.DataFrame:
    rows = [
        fx.finding("UNITS-8MIN", "error", f"C{i}", 1, fx.P1, 5, 1.0, message=text, evidence=text)
        for i, text in enumerate(FORMULAS)
    ]
    rows.append(fx.finding("DOC-NO-NOTE", "error", "=C9", 1, "@P", 6, 2.0, patient="-P9"))
    return pl.DataFrame(rows, schema=FINDINGS_SCHEMA)


def xlsx_has_no_formula(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode("utf-8"), name


def test_xlsx_and_csv_neutralise_formulas(tmp_path: Path) -> None:
    f = hostile_findings()
    run = RunInfo(**{**fx.RUN.__dict__, "inputs": (InputFile("claims", "=cmd.csv", 1, "e" * 64),)})
    path = write_xlsx(f, fx.summary(f), run, tmp_path / "findings.xlsx")
    xlsx_has_no_formula(path)
    sheets = pl.read_excel(path, sheet_id=0, infer_schema_length=0)
    assert list(sheets) == ["summary", "documentation", "plan of care", "units"]
    units = sheets["units"]
    assert units["message"].to_list() == ["'" + t for t in FORMULAS]
    assert units["evidence"].to_list() == ["'" + t for t in FORMULAS]
    doc = sheets["documentation"].row(0, named=True)
    assert (doc["claim_id"], doc["patient_id"], doc["provider_npi"]) == ("'=C9", "'-P9", "'@P")
    summary_cells = pl.read_excel(path, sheet_name="summary", has_header=False)
    assert "'=cmd.csv" in summary_cells.to_series(0).to_list()

    csv = pl.read_csv(write_csv(f, tmp_path / "findings.csv"), infer_schema=False)
    assert csv["message"].head(len(FORMULAS)).to_list() == ["'" + t for t in FORMULAS]
    assert csv.filter(pl.col("rule_id") == "DOC-NO-NOTE")["claim_id"].item() == "'=C9"


def test_xlsx_sheet_per_family_holds_every_finding(demo_run: AuditOutputs) -> None:
    out = demo_run
    assert out.findings_xlsx == out.out_dir / "findings.xlsx"
    sheets = pl.read_excel(out.findings_xlsx, sheet_id=0)
    families = sorted({r["family"] for r in out.summary["by_rule"].values()})
    assert list(sheets) == ["summary", *(f.replace("_", " ") for f in families)]
    total = 0
    for family in families:
        sheet = sheets[family.replace("_", " ")]
        assert sheet.columns[: len(FINDINGS_SCHEMA)] == list(FINDINGS_SCHEMA)
        rules = {r for r, v in out.summary["by_rule"].items() if v["family"] == family}
        assert set(sheet["rule_id"]) <= rules
        # each finding carries its rule's recommended action
        labels = {r: out.summary["by_rule"][r]["action_label"] for r in rules}
        assert sheet.select(
            (pl.col("rule_id").replace_strict(labels) == pl.col("recommended_action")).all()
        ).item()
        total += sheet.height
    assert total == out.summary["findings"]
    parquet = pl.read_parquet(out.findings_parquet)
    units = sheets["units"].sort("finding_id")
    expected = parquet.filter(pl.col("rule_id").str.starts_with("UNITS")).sort("finding_id")
    assert units["amount_at_risk"].to_list() == expected["amount_at_risk"].to_list()
    assert units["service_date"].cast(pl.Date).to_list() == expected["service_date"].to_list()
    xlsx_has_no_formula(out.findings_xlsx)


# Text the streamed rows must carry unchanged: XML specials, Excel's own _xHHHH_ escape written
# literally, control characters (CR is one: an XML parser would turn it into LF), non-ASCII.
ODD_TEXT = ["a & b <c> \"d\" 'e'", "_x0041_ stays", "tab\there\nline", "bell\x07 cr\r esc\x1b",
            "ünïcödé — 東京", "x" * 40_000, ""]  # fmt: skip


def test_streamed_rows_read_back_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "CHUNK_ROWS", 3)  # several chunks per sheet
    monkeypatch.setattr(workbook, "XLSX_MAX_ROWS", 5)  # and a family continued on a 2nd sheet
    rows = [
        fx.finding("UNITS-8MIN", "error", f"C{i:02}", 1, fx.P1, 1 + i % 28, 1234567.89 * i,
                   message=text, evidence=text, units=(i, i, None if i % 2 else i))
        for i, text in enumerate(ODD_TEXT * 2)
    ]  # fmt: skip
    f = pl.DataFrame(rows, schema=FINDINGS_SCHEMA)
    path = write_xlsx(f, fx.summary(f), fx.RUN, tmp_path / "findings.xlsx")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                ET.fromstring(z.read(name))  # well-formed XML, every part
        units = z.read("xl/worksheets/sheet4.xml").decode()  # after summary and two empty families
    assert '<dimension ref="A1:T6"/>' in units and '<autoFilter ref="A1:T6"/>' in units
    sheets = pl.read_excel(path, sheet_id=0, infer_schema_length=0)
    assert list(sheets)[3:] == ["units", "units (2)", "units (3)"]
    back = pl.concat([sheets["units"], sheets["units (2)"], sheets["units (3)"]])
    for column in ("message", "evidence"):
        expected = [t[: sheet_xml.XLSX_MAX_CHARS] or None for t in f[column]]
        assert back[column].to_list() == expected
    assert back["excess_units"].to_list() == [None if i % 2 else str(i) for i in range(14)]
    typed = pl.read_excel(path, sheet_name="units")
    assert typed["amount_at_risk"].to_list() == f["amount_at_risk"].head(5).to_list()
    assert typed["service_date"].cast(pl.Date).to_list() == f["service_date"].head(5).to_list()
    assert typed["line_number"].to_list() == [1] * 5


def test_empty_findings_give_header_only_sheets(tmp_path: Path) -> None:
    f = pl.DataFrame(schema=FINDINGS_SCHEMA)
    path = write_xlsx(f, fx.summary(fx.findings_frame()), fx.RUN, tmp_path / "findings.xlsx")
    sheets = pl.read_excel(path, sheet_id=0)
    header = [*FINDINGS_SCHEMA, "recommended_action", *workbook.REVIEW_COLUMNS]
    assert all(sheets[n].columns == header for n in list(sheets)[1:])
    assert all(sheets[n].height == 0 for n in list(sheets)[1:])


def test_sheet_names_are_valid_and_unique() -> None:
    names = sheet_names(["units", "a/b:c*d?", "x" * 40, "x" * 40 + "y", "summary"])
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names.values())
    assert len({n.lower() for n in names.values()} | {"summary"}) == 6


def test_sheet_names_are_words_not_module_names() -> None:
    names = sheet_names(["plan_of_care", "units", "_x__y_"])
    assert names == {"plan_of_care": "plan of care", "units": "units", "_x__y_": "x y"}
