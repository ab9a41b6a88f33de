"""flows.inputs.read: encodings, formats, folders, mapping files and whole-file errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from data import MAPPINGS
from flows.inputs.formats.csv import detect_encoding
from flows.inputs.mapping import load_mapping
from flows.inputs.read import read_export
from schemas.contract import COLUMNS, SOURCE_FILE, SOURCE_ROW
from schemas.errors import InputError, MappingError
from schemas.normalize import normalize
from schemas.validate import validate_export
from tests.schemas.test_contract import NPI, VALID, valid_row

EXAMPLE_MAPPING = MAPPINGS / "example-ehr.toml"
COLUMNS_NAMES = {e: [c.name for c in cols] for e, cols in COLUMNS.items()}


def write_csv_text(path: Path, rows: list[dict[str, str | None]], encoding: str = "utf-8") -> Path:
    header = list(rows[0])
    frame = pl.DataFrame([[r.get(c) for c in header] for r in rows], schema=header, orient="row")
    path.write_bytes(frame.cast(pl.String).write_csv().encode(encoding))
    return path


def accepted(raw_export) -> pl.DataFrame:
    normalized = normalize(raw_export.export, raw_export.frame, raw_export.formats)
    result = validate_export(raw_export.export, normalized.typed, normalized.failures)
    assert result.problems.height == 0, result.problems["reason"].to_list()
    return result.accepted


# ------------------------------------------------------------------------------ encodings
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


# ------------------------------------------------------------------------------ formats
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


def test_parquet_with_native_types(tmp_path: Path) -> None:
    path = tmp_path / "notes.parquet"
    pl.DataFrame(
        {
            **{k: [v] for k, v in VALID["notes"].items()},
            "service_date": [dt.date(2026, 1, 5)],
            "start_time": [dt.time(9)],
            "end_time": [dt.time(9, 40)],
            "minutes": pl.Series([None], dtype=pl.Int32),
            "signed_at": [dt.datetime(2026, 1, 5, 12)],
        }
    ).write_parquet(path)
    row = accepted(read_export("notes", path)).row(0, named=True)
    assert (row["minutes"], row["minutes_derived"]) == (40, True)
    assert row["signed_at"] == dt.datetime(2026, 1, 5, 12)


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


# ------------------------------------------------------------------------------ mapping
CLINICSOFT = {
    "claims": {
        "Claim #": "CS-100",
        "Line": "1",
        "Patient Acct": "000123",
        "Rendering NPI": NPI,
        "Payer Class": "Medicare",
        "DOS": "01/05/2026",
        "CPT": "97110",
        "Mods": "GP 59",
        "Units": "2",
        "Billed": "$1,200.00",
        "Paid": "",
        "Front Desk Notes": "extra column",
    },
    "notes": {
        "Visit #": "V1",
        "Patient Acct": "000123",
        "Clinician NPI": NPI,
        "Visit Date": "1/5/2026",
        "CPT": "97110",
        "Time In": "9:00 AM",
        "Time Out": "9:50 AM",
        "Total Min": "",
        "Signed On": "01/05/2026 4:15 PM",
        "Narrative": "Gait training.",
    },
    "plans": {
        "POC #": "POC-9",
        "Patient Acct": "000123",
        "Discipline": "pt",
        "Cert From": "01/01/2026",
        "Cert Thru": "03/31/2026",
        "MD Signed": "01/03/2026",
        "Certifying NPI": NPI,
    },
}


def test_example_mapping_reads_a_clinicsoft_export(tmp_path: Path) -> None:
    mapping = load_mapping(EXAMPLE_MAPPING)
    assert mapping.name == "ClinicSoft"
    for export, row in CLINICSOFT.items():
        path = write_csv_text(tmp_path / f"{export}.csv", [row])
        typed = accepted(read_export(export, path, mapping)).row(0, named=True)
        if export == "claims":
            assert typed["service_date"] == dt.date(2026, 1, 5)
            assert (typed["patient_id"], typed["modifiers"]) == ("000123", "GP:59")
            assert typed["charge_amount"] == 1200.0
        elif export == "notes":
            assert (typed["minutes"], typed["minutes_derived"]) == (50, True)
            assert typed["signed_at"] == dt.datetime(2026, 1, 5, 16, 15)
        else:
            assert typed["discipline"] == "PT"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('nmae = "x"\n', "unknown key 'nmae'"),
        ("[claim]\n", "unknown key 'claim'"),
        ("[claims]\ncolums = {}\n", "unknown key 'claims.colums'"),
        ('[claims.columns]\nunits_billed = "Units"\n', "unknown key 'claims.columns.units_billed'"),
        ('[claims.csv]\nquote = "x"\n', "unknown key 'claims.csv.quote'"),
        ('[claims.formats]\nunits = "%d"\n', "is not a date, time or date-time column"),
        ('[claims.formats]\nservice_date = "MM/DD/YYYY"\n', "is not a strptime format"),
        ("[claims.columns]\nunits = 3\n", "'claims.columns.units' must be a non-empty string"),
        ('[claims.csv]\nencoding = "klingon"\n', "is not a known encoding"),
        ("[claims\n", "is not valid TOML"),
    ],
)
def test_mapping_errors_name_the_key_and_file(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(toml)
    with pytest.raises(MappingError, match=message) as caught:
        load_mapping(path)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="does not exist"):
        load_mapping(tmp_path / "none.toml")


# ------------------------------------------------------------------------------ whole-file errors
def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    row = {k: v for k, v in VALID["claims"].items() if k != "units"}
    path = write_csv_text(tmp_path / "claims.csv", [row])
    with pytest.raises(InputError) as caught:
        read_export("claims", path)
    assert str(caught.value) == f"claims file '{path}' is missing the required column 'units'"


def test_missing_mapped_column_says_what_it_was_mapped_from(tmp_path: Path) -> None:
    row = {k: v for k, v in CLINICSOFT["claims"].items() if k not in ("Units", "CPT")}
    path = write_csv_text(tmp_path / "claims.csv", [row])
    with pytest.raises(InputError) as caught:
        read_export("claims", path, load_mapping(EXAMPLE_MAPPING))
    assert str(caught.value) == (
        f"claims file '{path}' is missing the required columns "
        "'procedure_code' (mapped from 'CPT'), 'units' (mapped from 'Units')"
    )


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
        ("claims.txt", b"x", "unsupported extension '.txt'"),
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
    with pytest.raises(InputError, match=r"has no \.csv, \.parquet or \.xlsx files"):
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
