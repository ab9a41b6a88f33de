"""flows.inputs.formats.xlsx: the first or the named sheet, the cells' own types, blank rows and
columns kept, and one line for a workbook that cannot be read."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import polars as pl
import pytest

from flows.inputs.formats import xlsx
from flows.inputs.mapping import ExportMapping, load_mapping
from flows.inputs.read import read_export
from schemas.errors import InputError
from tests.support.rows import NPI, VALID, accepted

LABEL = "plans file 'x'"


def test_xlsx_with_native_types(tmp_path: Path) -> None:
    path = tmp_path / "claims.xlsx"
    pl.DataFrame(
        {
            **{k: [v] for k, v in VALID["claims"].items()},
            "line_number": [1],
            "units": [2],
            "charge_amount": [150.5],
            "rendering_npi": [int(NPI)],
            "service_date": [dt.date(2026, 1, 5)],
        }
    ).write_excel(path)
    raw = read_export("claims", path)
    assert raw.files[0].format == "xlsx"
    row = accepted(raw).row(0, named=True)
    assert row["service_date"] == dt.date(2026, 1, 5)
    assert (row["units"], row["charge_amount"], row["rendering_npi"]) == (2, 150.5, NPI)


def test_xlsx_named_sheet_from_mapping(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "plans.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        pl.DataFrame({"x": ["cover sheet"]}).write_excel(workbook, worksheet="Notes")
        pl.DataFrame({k: [v] for k, v in VALID["plans"].items()}).write_excel(
            workbook, worksheet="Plans"
        )
    mapping_file = tmp_path / "m.toml"
    mapping_file.write_text('[plans]\nsheet = "Plans"\n')
    raw = read_export("plans", path, load_mapping(mapping_file))
    assert accepted(raw)["plan_id"].to_list() == ["PL1"]
    mapping_file.write_text('[plans]\nsheet = "Nope"\n')
    with pytest.raises(InputError, match="has no sheet named 'Nope'"):
        read_export("plans", path, load_mapping(mapping_file))


def test_blank_columns_and_rows_are_kept_and_types_sampled_from_every_row(tmp_path: Path) -> None:
    import xlsxwriter

    path = tmp_path / "a.xlsx"
    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["id", "unused", "units"])
        for row in range(1, 200):
            sheet.write_row(row, 0, [f"P{row}", None, row])
        sheet.write_row(201, 0, ["LATE", None, "two"])  # row 200 left blank
    frame, encoding = xlsx.read(LABEL, path, ExportMapping())
    assert encoding is None
    assert frame.columns == ["id", "unused", "units"]
    assert frame.height == 201 and frame.row(199) == (None, None, None)
    assert frame["units"].dtype == pl.String and frame["units"][-1] == "two"


def test_fastexcel_warnings_stay_off_the_console_and_the_level_is_restored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "a.xlsx"
    pl.DataFrame({"id": ["P1"], "blank": pl.Series([None], dtype=pl.String)}).write_excel(path)
    dtype_log = logging.getLogger("fastexcel.types.dtype")
    dtype_log.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.WARNING):
            xlsx.read(LABEL, path, ExportMapping())
        assert not [r for r in caplog.records if r.name.startswith("fastexcel")]
        assert dtype_log.level == logging.INFO
    finally:
        dtype_log.setLevel(logging.NOTSET)


@pytest.mark.parametrize("content", [b"not a zip", b"PK\x03\x04 truncated"])
def test_a_broken_workbook_is_one_line(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        xlsx.read(LABEL, path, ExportMapping(sheet="Plans"))
    assert str(caught.value) == f"{LABEL} is not a readable XLSX workbook"
