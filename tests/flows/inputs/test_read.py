"""flows.inputs.read: folders, row identity, headers onto contract names and whole-file errors
through read_export (each reader and the mapping file have their own tests)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from flows.inputs.read import read_export
from schemas.contract import COLUMNS, SOURCE_FILE, SOURCE_ROW
from schemas.errors import InputError
from tests.support.rows import VALID, accepted, valid_row, write_csv_text

COLUMNS_NAMES = {e: [c.name for c in cols] for e, cols in COLUMNS.items()}


# ------------------------------------------------------------------------------ folders
def test_folder_concatenates_files_sorted_with_source_columns(tmp_path: Path) -> None:
    folder = tmp_path / "claims"
    folder.mkdir()
    write_csv_text(folder / "b.csv", [valid_row("claims", claim_id="B1")])
    write_csv_text(
        folder / "a.csv", [valid_row("claims", claim_id="A1"), valid_row("claims", claim_id="A2")]
    )
    (folder / "README.txt").write_text("ignored")
    (folder / "~$a.xlsx").write_bytes(b"office lock file")
    write_csv_text(folder / ".a.csv", [valid_row("claims", claim_id="HIDDEN")])  # readable, hidden
    raw = read_export("claims", folder)
    assert raw.frame.select(SOURCE_FILE, SOURCE_ROW, "claim_id").rows() == [
        ("claims/a.csv", 1, "A1"),
        ("claims/a.csv", 2, "A2"),
        ("claims/b.csv", 1, "B1"),
    ]
    assert [f.name for f in raw.files] == ["claims/a.csv", "claims/b.csv"]


def test_folder_mixing_csv_and_parquet_is_read_as_text(tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    write_csv_text(folder / "a.csv", [valid_row("plans", plan_id="A")])
    pl.DataFrame({**{k: [v] for k, v in VALID["plans"].items()}, "plan_id": ["B"]}).with_columns(
        cert_start=pl.lit(dt.date(2026, 1, 1))
    ).write_parquet(folder / "b.parquet")
    raw = read_export("plans", folder)
    assert raw.frame.schema["cert_start"] == pl.String
    assert accepted(raw)["plan_id"].to_list() == ["A", "B"]


def test_blank_rows_are_skipped_and_counted_row_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    header = ",".join(VALID["plans"])
    row = ",".join(VALID["plans"].values())
    path.write_text(f"{header}\n{row}\n\n , ,,,,,\n{row.replace('PL1', 'PL2')}\n\n")
    raw = read_export("plans", path)
    assert raw.frame.select(SOURCE_ROW, "plan_id").rows() == [(1, "PL1"), (4, "PL2")]
    assert raw.files[0].blank_rows == 3


def test_headers_case_insensitive_trimmed_and_extras_kept(tmp_path: Path) -> None:
    row = {f" {k.upper()} ": v for k, v in VALID["plans"].items()} | {"Internal Ref": "=X"}
    raw = read_export("plans", write_csv_text(tmp_path / "p.csv", [row]))
    assert set(COLUMNS_NAMES["plans"]) <= set(raw.frame.columns)
    assert "Internal Ref" not in raw.frame.columns
    assert raw.files[0].original["Internal Ref"].to_list() == ["=X"]
    assert raw.files[0].header_map["plan_id"] == " PLAN_ID "


def test_missing_optional_columns_are_added_as_null(tmp_path: Path) -> None:
    row = {k: v for k, v in VALID["plans"].items() if k not in ("discipline", "signed_date")}
    raw = read_export("plans", write_csv_text(tmp_path / "p.csv", [row]))
    assert raw.frame["discipline"].to_list() == [None]
    assert accepted(raw)["signed_date"].to_list() == [None]


# ------------------------------------------------------------------------------ whole-file errors
def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    row = {k: v for k, v in VALID["claims"].items() if k != "units"}
    path = write_csv_text(tmp_path / "claims.csv", [row])
    with pytest.raises(InputError) as caught:
        read_export("claims", path)
    assert str(caught.value) == f"claims file '{path}' is missing the required column 'units'"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("claims.csv", b"", "is empty"),
        ("claims.csv", ",".join(VALID["claims"]).encode() + b"\n", "has no data rows"),
        ("claims.csv", b"a,b\n1,2,3,SSN-123\n", "a row has more fields than the header"),
        ("claims.csv", b'claim_id,x\n"unterminated,SSN-123\n', "could not be read as CSV"),
        ("claims.csv", b"claim_id\n\x81\x8d\x8f\n", "neither UTF-8 nor cp1252"),
        ("claims.parquet", b"not parquet", "is not a readable Parquet file"),
        ("claims.xlsx", b"not a zip", "is not a readable XLSX workbook"),
        ("claims.txt", b"x", "is not an X12 file"),
        ("claims.doc", b"x", "unsupported extension '.doc'"),
    ],
)
def test_unusable_files_raise_one_line_without_data(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError, match=message) as caught:
        read_export("claims", path)
    text = str(caught.value)
    assert "\n" not in text
    assert "SSN-123" not in text
    assert str(path) in text


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_export("notes", tmp_path / "nope.csv")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.json").write_text(json.dumps({}))
    with pytest.raises(
        InputError, match=r"has no \.csv, \.parquet, \.xlsx, \.837, .* or \.dat files"
    ):
        read_export("notes", tmp_path / "empty")


def test_reserved_and_ambiguous_headers(tmp_path: Path) -> None:
    row = valid_row("plans") | {"_source_row": "1"}
    with pytest.raises(InputError, match="reserved"):
        read_export("plans", write_csv_text(tmp_path / "a.csv", [row]))
    path = tmp_path / "b.csv"
    header = ",".join([*VALID["plans"], "PLAN_ID"])
    path.write_text(header + "\n" + ",".join([*VALID["plans"].values(), "X"]) + "\n")
    with pytest.raises(InputError, match="more than one column named 'plan_id'"):
        read_export("plans", path)


# ------------------------------------------------------------------------ duplicate headers
def _duplicate_units(path: Path) -> Path:
    header = [*VALID["claims"], "units"]
    values = [*VALID["claims"].values(), "7"]
    if path.suffix == ".csv":
        path.write_text(",".join(header) + "\n" + ",".join(values) + "\n")
        return path
    import xlsxwriter

    with xlsxwriter.Workbook(path) as workbook:
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, header)
        sheet.write_row(1, 0, values)
    return path


@pytest.mark.parametrize("name", ["claims.csv", "claims.xlsx"])
def test_an_exact_duplicate_header_the_audit_reads_is_refused(tmp_path: Path, name: str) -> None:
    # the readers rename the second 'units' ('units_duplicated_0', 'units_1') and it was ignored
    with pytest.raises(InputError, match="has more than one column named 'units'"):
        read_export("claims", _duplicate_units(tmp_path / name))


def test_a_duplicate_header_the_audit_does_not_read_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "claims.csv"
    header = [*VALID["claims"], "Memo", "Memo"]
    path.write_text(",".join(header) + "\n" + ",".join([*VALID["claims"].values(), "a", "b"]))
    assert read_export("claims", path).frame.height == 1
