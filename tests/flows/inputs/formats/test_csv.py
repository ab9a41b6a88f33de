"""flows.inputs.formats.csv: encodings (detected or from the mapping), the delimiter, every
column as text, and whole-file errors that never quote a field."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from flows.inputs.formats import csv
from flows.inputs.formats.csv import detect_encoding
from flows.inputs.mapping import CsvOptions, ExportMapping
from flows.inputs.read import read_export
from schemas.errors import InputError
from tests.support.rows import accepted, valid_row, write_csv_text

LABEL = "claims file 'x'"


# -------------------------------------------------------------- encodings, through read_export
def test_utf8_keeps_text_and_leading_zeros(tmp_path: Path) -> None:
    path = write_csv_text(tmp_path / "claims.csv", [valid_row("claims", patient_id="00042")])
    raw = read_export("claims", path)
    assert raw.frame["patient_id"].to_list() == ["00042"]
    assert raw.files[0].encoding == "utf-8"
    assert accepted(raw)["patient_id"].to_list() == ["00042"]


def test_utf8_bom_header_loses_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "plans.csv"
    write_csv_text(path, [valid_row("plans")], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    raw = read_export("plans", path)
    assert raw.files[0].original.columns[1] == "plan_id"  # after _source_row
    assert raw.files[0].encoding == "utf-8-sig"
    assert accepted(raw)["plan_id"].to_list() == ["PL1"]


def test_cp1252_is_decoded(tmp_path: Path) -> None:
    rows = [valid_row("notes", note_text="Müller tolerated café visit; 5 €")]
    path = write_csv_text(tmp_path / "notes.csv", rows, encoding="cp1252")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert detect_encoding(path) == "cp1252"
    raw = read_export("notes", path)
    assert raw.files[0].encoding == "cp1252"
    assert accepted(raw)["note_text"].to_list() == ["Müller tolerated café visit; 5 €"]


def test_utf8_multibyte_is_not_mistaken_for_cp1252(tmp_path: Path) -> None:
    path = write_csv_text(tmp_path / "n.csv", [valid_row("notes", note_text="Müller")])
    assert detect_encoding(path) == "utf-8"
    assert read_export("notes", path).frame["note_text"].to_list() == ["Müller"]


# -------------------------------------------------------------------------- the reader itself
def test_every_column_is_text(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("id,amount,when\n007,12.50,2026-01-05\n")
    frame, encoding = csv.read(LABEL, path, ExportMapping())
    assert frame.schema == pl.Schema({"id": pl.String, "amount": pl.String, "when": pl.String})
    assert frame.row(0) == ("007", "12.50", "2026-01-05")
    assert encoding == "utf-8"


def test_delimiter_and_encoding_from_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("name;city\nMüller;Köln\n".encode("latin-1"))
    spec = ExportMapping(csv=CsvOptions(delimiter=";", encoding="iso8859_1"))
    frame, encoding = csv.read(LABEL, path, spec)
    assert frame.rows() == [("Müller", "Köln")]
    assert encoding == "iso8859-1"


def test_a_bom_is_not_part_of_the_first_header(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbfid,x\n1,2\n")
    frame, encoding = csv.read(LABEL, path, ExportMapping())
    assert (frame.columns, encoding) == (["id", "x"], "utf-8-sig")


def test_utf8_named_in_the_mapping_but_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes("id,name\n1,Müller\n".encode("cp1252"))
    spec = ExportMapping(csv=CsvOptions(encoding="utf-8"))
    with pytest.raises(InputError) as caught:
        csv.read(LABEL, path, spec)
    assert str(caught.value) == (
        f"{LABEL} could not be read as CSV: it is not valid UTF-8 (set csv.encoding in the mapping)"
    )


def test_text_that_is_not_the_named_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"id\n\xff\xfe\x00\n")
    spec = ExportMapping(csv=CsvOptions(encoding="ascii"))
    with pytest.raises(InputError, match="is neither UTF-8 nor ascii text"):
        csv.read(LABEL, path, spec)
