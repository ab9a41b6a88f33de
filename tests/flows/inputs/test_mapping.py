"""flows.inputs.mapping: the mapping file's keys and errors, and headers matched onto contract
columns (case, spaces, a byte-order mark, mapped names)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flows.inputs.mapping import ExportMapping, SourceMapping, load_mapping, match_headers
from flows.inputs.read import read_export
from schemas.contract import COLUMNS
from schemas.errors import InputError, MappingError
from tests.support.rows import CLINICSOFT, EXAMPLE_MAPPING, accepted, write_csv_text

PLANS = [c.name for c in COLUMNS["plans"]]
REQUIRED_PLANS = [c.name for c in COLUMNS["plans"] if c.required]


# ------------------------------------------------------------------------------ mapping file
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


def test_missing_mapped_column_says_what_it_was_mapped_from(tmp_path: Path) -> None:
    row = {k: v for k, v in CLINICSOFT["claims"].items() if k not in ("Units", "CPT")}
    path = write_csv_text(tmp_path / "claims.csv", [row])
    with pytest.raises(InputError) as caught:
        read_export("claims", path, load_mapping(EXAMPLE_MAPPING))
    assert str(caught.value) == (
        f"claims file '{path}' is missing the required columns "
        "'procedure_code' (mapped from 'CPT'), 'units' (mapped from 'Units')"
    )


def test_an_export_the_mapping_does_not_name_reads_with_contract_headers(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text('name = "Only claims"\n[claims.columns]\nunits = "Units"\n')
    mapping = load_mapping(path)
    assert (mapping.name, mapping.path) == ("Only claims", path)
    assert mapping.for_export("claims").columns == {"units": "Units"}
    assert mapping.for_export("plans") == ExportMapping() == SourceMapping().for_export("plans")


def test_mapping_options_are_normalised(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        '[notes]\nsheet = "Visits"\n[notes.csv]\ndelimiter = ";"\nencoding = "latin-1"\n'
        '[notes.formats]\nservice_date = "%m/%d/%Y"\n'
    )
    notes = load_mapping(path).for_export("notes")
    assert (notes.csv.delimiter, notes.csv.encoding) == (";", "iso8859-1")
    assert (notes.sheet, notes.formats) == ("Visits", {"service_date": "%m/%d/%Y"})


# ------------------------------------------------------------------------------ headers
def test_headers_match_without_case_spaces_or_bom() -> None:
    headers = ["\ufeff PLAN_ID ", *(f"  {c.title()}" for c in PLANS[1:]), "Extra"]
    found = match_headers("plans", "plans file 'p.csv'", headers, ExportMapping())
    assert found["plan_id"] == "\ufeff PLAN_ID "
    assert found == dict(zip(PLANS, headers[:-1], strict=True))


def test_mapped_headers_replace_the_contract_names() -> None:
    spec = ExportMapping(columns={"plan_id": "POC #"})
    headers = ["poc #", "plan_id", *PLANS[1:]]
    found = match_headers("plans", "plans file 'p.csv'", headers, spec)
    assert found["plan_id"] == "poc #"  # the contract's own name is just another extra column


def test_every_missing_required_column_is_named_at_once() -> None:
    with pytest.raises(InputError) as caught:
        match_headers("plans", "plans file 'p.csv'", ["other"], ExportMapping())
    listed = ", ".join(f"'{c}'" for c in REQUIRED_PLANS)
    assert str(caught.value) == f"plans file 'p.csv' is missing the required columns {listed}"
