"""flows.inputs.transform through read_export and validate_inputs: constants, value maps, joined
columns, a date format per column, row filters counted as "filtered by the mapping", the NPI
check as a warning; and the mapping file's errors for these keys."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from flows.inputs.mapping import load_mapping
from flows.inputs.read import read_export
from flows.inputs.validate import validate_inputs
from schemas.errors import InputError, MappingError
from tests.support.rows import NPI, accepted, valid_row, write_csv_text

# A claim line as a payer-side extract writes it: SBR09-like payer codes, four modifier columns,
# day-month name-year dates and a transaction type per row.
ROW = {
    "CLM": "C1",
    "LN": "1",
    "MBR": "M1",
    "NPI": NPI,
    "SBR09": "MB",
    "DOS": "02-Mar-2026",
    "CODE": "97110",
    "MOD1": "GP",
    "MOD2": "",
    "MOD3": "KX",
    "MOD4": "",
    "UNITS": "2",
    "CHARGE": "120.00",
    "TYPE": "CHARGE",
}
MAPPING = """
[claims.columns]
claim_id = "CLM"
line_number = "LN"
patient_id = "MBR"
rendering_npi = "NPI"
payer_type = "SBR09"
service_date = "DOS"
procedure_code = "CODE"
units = "UNITS"
charge_amount = "CHARGE"

[claims.values.payer_type]
MB = "medicare"
MA = "medicare"
mc = "medicaid"

[claims.join]
modifiers = ["MOD1", "MOD2", "MOD3", "MOD4"]

[claims.formats]
service_date = "%d-%b-%Y"
"""


def _mapping(tmp_path: Path, text: str = MAPPING, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _claims(tmp_path: Path, rows: list[dict[str, str | None]]) -> Path:
    return write_csv_text(tmp_path / "claims.csv", rows)


def test_value_map_join_and_format_fit_a_payer_extract(tmp_path: Path) -> None:
    rows = [
        ROW,
        {**ROW, "LN": "2", "SBR09": " mc ", "MOD1": "", "MOD3": "", "MOD4": "59"},
        {**ROW, "LN": "3", "SBR09": "Medicare", "MOD1": "", "MOD3": ""},
    ]
    typed = accepted(
        read_export("claims", _claims(tmp_path, rows), load_mapping(_mapping(tmp_path)))
    )
    assert typed["payer_type"].to_list() == ["medicare", "medicaid", "medicare"]
    # modifiers 1-4 joined with the contract's separator, blanks skipped, none left: blank
    assert typed["modifiers"].to_list() == ["GP:KX", "59", None]
    assert typed["service_date"].to_list() == [dt.date(2026, 3, 2)] * 3


def test_an_unmapped_value_is_kept_and_the_contract_quarantines_it(tmp_path: Path) -> None:
    rows = [ROW, {**ROW, "LN": "2", "SBR09": "ZZ"}]
    out = tmp_path / "out"
    out.mkdir()
    mapping = load_mapping(_mapping(tmp_path))
    result = validate_inputs(_claims(tmp_path, rows), *_evidence(tmp_path), out, mapping)
    problems = result.results["claims"].problems
    assert problems["reason"].to_list() == [
        "payer_type must be one of medicare, medicaid, commercial, other"
    ]
    assert problems["source_row"].to_list() == [2]


def _evidence(tmp_path: Path) -> tuple[Path, Path]:
    notes = write_csv_text(tmp_path / "notes.csv", [valid_row("notes")])
    plans = write_csv_text(tmp_path / "plans.csv", [valid_row("plans")])
    return notes, plans


def test_a_constant_fills_a_column_the_file_lacks(tmp_path: Path) -> None:
    rows = [{k: v for k, v in ROW.items() if k != "SBR09"}]
    text = MAPPING.replace('payer_type = "SBR09"\n', "").replace(
        "[claims.values.payer_type]",
        '[claims.constants]\npayer_type = "Medicare"\n\n[claims.values.payer_type]',
    )
    typed = accepted(
        read_export("claims", _claims(tmp_path, rows), load_mapping(_mapping(tmp_path, text)))
    )
    assert typed["payer_type"].to_list() == ["medicare"]


def test_filtered_rows_are_counted_never_lost(tmp_path: Path) -> None:
    rows = [
        ROW,
        {**ROW, "TYPE": "PAYMENT", "LN": "1"},  # same claim line: would be a duplicate key
        {**ROW, "TYPE": " charge ", "LN": "2", "UNITS": "x"},  # kept, then quarantined
        {**ROW, "TYPE": "", "LN": "3"},  # blank equals nothing: filtered
        {**ROW, "TYPE": "ADJUSTMENT", "LN": "4"},
    ]
    text = MAPPING + '\n[[claims.filter]]\ncolumn = "type"\nop = "=="\nvalue = "CHARGE"\n'
    out = tmp_path / "out"
    out.mkdir()
    result = validate_inputs(
        _claims(tmp_path, rows), *_evidence(tmp_path), out, _mapping(tmp_path, text)
    )
    summary = json.loads((out / "validation.json").read_text())
    claims = summary["exports"]["claims"]
    assert (claims["rows_read"], claims["rows_accepted"], claims["rows_quarantined"]) == (5, 1, 1)
    assert claims["rows_filtered"] == 3
    assert claims["files"][0]["rows_filtered"] == 3
    assert summary["totals"]["rows_filtered"] == 3
    # source rows keep the file's numbering: the quarantined row is the file's third
    assert result.results["claims"].problems["source_row"].to_list() == [3]


@pytest.mark.parametrize(
    ("op", "value", "kept"),
    [
        ("!=", '"PAYMENT"', ["1", "3", "4"]),
        ("in", '["charge", "ADJUSTMENT"]', ["1", "4"]),
        ("not in", '["PAYMENT", "ADJUSTMENT"]', ["1", "3"]),
    ],
)
def test_filter_operators(tmp_path: Path, op: str, value: str, kept: list[str]) -> None:
    rows = [
        ROW,
        {**ROW, "TYPE": "PAYMENT", "LN": "2"},
        {**ROW, "TYPE": None, "LN": "3"},
        {**ROW, "TYPE": "ADJUSTMENT", "LN": "4"},
    ]
    text = MAPPING + f'\n[[claims.filter]]\ncolumn = "TYPE"\nop = "{op}"\nvalue = {value}\n'
    raw = read_export("claims", _claims(tmp_path, rows), load_mapping(_mapping(tmp_path, text)))
    assert [str(n) for n in accepted(raw)["line_number"].to_list()] == kept
    assert raw.files[0].filtered_rows == 4 - len(kept)


def test_filter_and_file_values_are_compared_in_the_same_case_folding(tmp_path: Path) -> None:
    """The mapping's value and the cell are lower-cased alike (a German sharp s stays one
    letter on both sides), so a row matches exactly when its text does, whatever its case."""
    rows = [
        {**ROW, "TYPE": "Straße"},
        {**ROW, "TYPE": "STRASSE", "LN": "2"},
        {**ROW, "TYPE": "STRAẞE", "LN": "3"},
    ]
    text = MAPPING + '\n[[claims.filter]]\ncolumn = "TYPE"\nop = "=="\nvalue = "straße"\n'
    raw = read_export("claims", _claims(tmp_path, rows), load_mapping(_mapping(tmp_path, text)))
    assert [str(n) for n in accepted(raw)["line_number"].to_list()] == ["1", "3"]


def test_a_filter_column_missing_from_the_file_is_one_line(tmp_path: Path) -> None:
    text = MAPPING + '\n[[claims.filter]]\ncolumn = "KIND"\nop = "=="\nvalue = "CHARGE"\n'
    path = _claims(tmp_path, [ROW])
    with pytest.raises(InputError) as caught:
        read_export("claims", path, load_mapping(_mapping(tmp_path, text)))
    assert str(caught.value) == (
        f"claims file '{path}' has no column 'KIND' (a row filter of the mapping)"
    )


def test_a_joined_column_missing_from_the_file_is_one_line(tmp_path: Path) -> None:
    path = _claims(tmp_path, [{k: v for k, v in ROW.items() if k != "MOD4"}])
    with pytest.raises(InputError, match="has no column 'MOD4' \\(joined into modifiers\\)"):
        read_export("claims", path, load_mapping(_mapping(tmp_path)))


@pytest.mark.parametrize("mode", ["quarantine", "warn"])
def test_npi_check_warn_counts_instead_of_quarantining(tmp_path: Path, mode: str) -> None:
    masked = "1234567890"  # ten digits, wrong check digit (a masked extract)
    rows = [ROW, {**ROW, "LN": "2", "NPI": masked}]
    text = f'npi_check = "{mode}"\n' + MAPPING
    out = tmp_path / "out"
    out.mkdir()
    result = validate_inputs(
        _claims(tmp_path, rows), *_evidence(tmp_path), out, _mapping(tmp_path, text)
    )
    claims = json.loads((out / "validation.json").read_text())["exports"]["claims"]
    reason = "rendering_npi is not a valid NPI (10 digits with a correct check digit)"
    if mode == "warn":
        assert (claims["rows_accepted"], claims["rows_quarantined"]) == (2, 0)
        assert claims["warnings"] == 1
        assert claims["warnings_by_reason"] == {reason: 1}
        assert masked in result.claims["rendering_npi"].to_list()
    else:
        assert (claims["rows_accepted"], claims["rows_quarantined"]) == (1, 1)
        assert claims["warnings"] == 0
        assert claims["problems_by_reason"] == {reason: 1}


def test_npi_check_warn_leaves_other_problems_quarantined(tmp_path: Path) -> None:
    rows = [ROW, {**ROW, "LN": "2", "NPI": "1234567890", "CODE": "ABC"}]
    out = tmp_path / "out"
    out.mkdir()
    text = 'npi_check = "warn"\n' + MAPPING
    result = validate_inputs(
        _claims(tmp_path, rows), *_evidence(tmp_path), out, _mapping(tmp_path, text)
    )
    assert result.results["claims"].rows_quarantined == 1
    assert result.results["claims"].warnings.height == 1


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('npi_check = "off"\n', "'npi_check' must be one of quarantine, warn"),
        ("[claims.constants]\npayer = 'medicare'\n", "unknown key 'claims.constants.payer'"),
        ("[claims.constants]\npayer_type = true\n", "must be a string or a number"),
        (
            '[claims.columns]\npayer_type = "P"\n[claims.constants]\npayer_type = "medicare"\n',
            "'claims.columns.payer_type' and 'claims.constants.payer_type' both set the column",
        ),
        ("[claims.values.units]\n1 = '2'\n", "'claims.values.units' is not a text column"),
        ("[claims.values.payer_type]\n", "'claims.values.payer_type' maps no value"),
        ("[claims.join]\nmodifiers = 'M1'\n", "must be a list of column names"),
        ("[claims.join]\nservice_date = ['A', 'B']\n", "is not a text column"),
        ("[[claims.filter]]\ncolumn = 'T'\nop = '~'\nvalue = 'x'\n", "must be one of ==, !="),
        ("[[claims.filter]]\ncolumn = 'T'\nop = '=='\n", "'claims.filter[0]' lacks 'value'"),
        ("[[claims.filter]]\ncolumn = 'T'\nop = 'in'\nvalue = 'x'\n", "must be a list"),
        ("[[claims.filter]]\ncolumn = 'T'\nop = '=='\nvalue = 'x'\nhow = 1\n", "unknown key"),
        ("[claims.filter]\ncolumn = 'T'\n", "'claims.filter' must be an array of tables"),
    ],
)
def test_new_keys_errors_name_the_key_and_file(tmp_path: Path, toml: str, message: str) -> None:
    path = _mapping(tmp_path, toml, "bad.toml")
    with pytest.raises(MappingError, match=re.escape(message)) as caught:
        load_mapping(path)
    assert str(path) in str(caught.value)
