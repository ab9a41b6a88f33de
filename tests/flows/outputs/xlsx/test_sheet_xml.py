"""The streamed sheet rows (flows/outputs/xlsx/sheet_xml.py): cells carry no `r`
reference except
after a left-out null cell, `xml:space="preserve"` only on text with whitespace at an end, and a
reader that counts rows and columns as SpreadsheetML says finds every value where it belongs."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from flows.outputs.xlsx import workbook
from flows.outputs.xlsx.sheet_xml import EXCEL_EPOCH_OFFSET, XLSX_MAX_CHARS, chunk_xml
from schemas.findings import FINDINGS_SCHEMA
from tests.support import report_fixture as fx

NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
STYLES = {"date": 7, "money": 8}


def column_index(ref: str) -> int:
    index = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        index = index * 26 + ord(ch) - 64
    return index


def read_grid(xml: bytes, first_row: int) -> dict[tuple[int, int], tuple[str, str, str | None]]:
    """(row, column) -> (type, text, style) the way a reader places cells: a row or cell with
    no `r` follows the previous one (the rows follow a header row, as in the sheet)."""
    head = f'<sheetData xmlns="{NS[1:-1]}"><row r="{first_row - 1}"/>'
    sheet = head.encode() + xml + b"</sheetData>"
    grid: dict[tuple[int, int], tuple[str, str, str | None]] = {}
    row = 1
    for row_el in ET.fromstring(sheet).iter(f"{NS}row"):
        row = int(row_el.get("r", row + 1))
        col = 0
        for cell in row_el.iter(f"{NS}c"):
            ref = cell.get("r")
            col = column_index(ref) if ref else col + 1
            if ref:
                assert int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) == row
            kind = cell.get("t", "n")
            text = cell.findtext(f"{NS}is/{NS}t" if kind == "inlineStr" else f"{NS}v")
            grid[(row, col)] = (kind, text or "", cell.get("s"))
    return grid


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "a": ["x", None, "a & <b>", " lead", "trail ", "both\t", None],
            "n": [1, None, None, 4, None, 6, None],
            "amount_at_risk": [1.5, float("nan"), 3.25, None, float("inf"), 0.0, None],
            "d": [dt.date(2026, 1, 2), None, dt.date(1970, 1, 1), None, None, None, None],
            "z": ["last", "q", None, "mid dle", "", None, None],
        }
    )


def test_cells_land_where_they_belong() -> None:
    df = frame()
    grid = read_grid(chunk_xml(df, 10, STYLES), 10)
    expected: dict[tuple[int, int], tuple[str, str, str | None]] = {}
    for r, values in enumerate(df.iter_rows(), start=10):
        a, n, amount, d, z = values
        if a is not None:
            expected[(r, 1)] = ("inlineStr", a, None)
        if n is not None:
            expected[(r, 2)] = ("n", str(n), None)
        if amount is not None and amount == amount and amount != float("inf"):
            expected[(r, 3)] = ("n", str(amount), "8")
        if d is not None:
            expected[(r, 4)] = ("n", str((d - dt.date(1970, 1, 1)).days + EXCEL_EPOCH_OFFSET), "7")
        if z is not None:
            expected[(r, 5)] = ("inlineStr", z, None)
    assert grid == expected


def test_references_only_after_a_gap_and_preserve_only_at_the_edges() -> None:
    xml = chunk_xml(frame(), 10, STYLES).decode()
    assert "<row>" in xml and "<row r=" not in xml
    # the cells that follow a left-out one: z after d in rows 11, 13 and 14, amount after n
    # in row 12; row 16 has no cell at all
    refs = re.findall(r'<c r="([A-Z]+\d+)"', xml)
    assert refs == ["E11", "C12", "E13", "E14"]
    preserved = re.findall(r'<t xml:space="preserve">([^<]*)</t>', xml)
    assert preserved == [" lead", "trail ", "both\t"]
    assert "<t>mid dle</t>" in xml and "<t></t>" in xml


def test_a_frame_without_gaps_or_specials_is_plain_copies() -> None:
    df = pl.DataFrame({"a": ["p", "q"], "b": [1, 2]})
    xml = chunk_xml(df, 2, STYLES).decode()
    assert xml.splitlines() == [
        "<row>", '<c t="inlineStr"><is><t>p</t></is></c>', "<c><v>1</v></c>", "</row>",
        "<row>", '<c t="inlineStr"><is><t>q</t></is></c>', "<c><v>2</v></c>", "</row>",
    ]  # fmt: skip


@pytest.mark.parametrize("chunk_rows", [1, 2, 1_000])
def test_workbook_rows_read_back_through_every_chunking(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int
) -> None:
    """Each chunk decides alone which columns need escaping, a reference or `xml:space`: a
    column plain in one chunk and not in the next still reads back exactly."""
    monkeypatch.setattr(workbook, "CHUNK_ROWS", chunk_rows)
    texts = ["plain", " edge", "a<b", "plain", "_x0041_", "plain"]
    rows = [
        fx.finding("UNITS-8MIN", "error", f"C{i}", 1, fx.P1, 1 + i, 1.0 * i, message=t,
                   evidence=t, units=(3, None if i % 2 else 1, None if i % 3 else 2))
        for i, t in enumerate(texts)
    ]  # fmt: skip
    f = pl.DataFrame(rows, schema=FINDINGS_SCHEMA)
    path = workbook.write_xlsx(f, fx.summary(f), fx.RUN, tmp_path / "findings.xlsx")
    back = pl.read_excel(path, sheet_name="units", infer_schema_length=0)
    assert back["message"].to_list() == texts
    assert back["evidence"].to_list() == texts
    assert back["supported_units"].to_list() == [None if i % 2 else "1" for i in range(6)]
    assert back["excess_units"].to_list() == [None if i % 3 else "2" for i in range(6)]
    assert back["amount_at_risk"].cast(pl.Float64).to_list() == [1.0 * i for i in range(6)]


def test_a_value_cut_to_excels_limit_keeps_its_last_space() -> None:
    text = "x" * (XLSX_MAX_CHARS - 1) + " and more"
    xml = chunk_xml(pl.DataFrame({"a": [text, "b"]}), 2, STYLES).decode()
    kept = "x" * (XLSX_MAX_CHARS - 1) + " "
    assert f'<t xml:space="preserve">{kept}</t>' in xml and "<t>b</t>" in xml
    assert read_grid(xml.encode(), 2)[(2, 1)] == ("inlineStr", kept, None)
