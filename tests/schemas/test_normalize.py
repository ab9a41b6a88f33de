"""schemas.normalize: parsing by kind, format hints, typed inputs, text normalisation."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_series_equal

import schemas.text
from schemas.contract import COLUMNS, SOURCE_FILE, SOURCE_ROW
from schemas.normalize import FAILURE_SCHEMA, MINUTES_DERIVED, TARGET_DTYPES, normalize
from schemas.text import as_text, blank_to_null, is_blank, text_clean, text_is_blank
from tests.support.rows import NPI, text_frame, valid_row
from tests.support.strategies import CELLS, TEXT


def _one(export: str, column: str, value: object, formats: dict[str, str] | None = None):
    result = normalize(export, text_frame([valid_row(export, **{column: value})]), formats)
    return result.typed[column][0], result.failures["reason"].to_list()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05", dt.date(2026, 1, 5)),
        ("2026-1-5", dt.date(2026, 1, 5)),
        ("01/05/2026", dt.date(2026, 1, 5)),
        ("1/5/2026", dt.date(2026, 1, 5)),
        ("  01/05/2026 ", dt.date(2026, 1, 5)),
        ("2026-01-05 00:00:00", dt.date(2026, 1, 5)),
        ("2026-01-05T00:00:00", dt.date(2026, 1, 5)),
        ("1/5/2026 0:00", dt.date(2026, 1, 5)),
    ],
)
def test_dates_iso_and_us(value: str, expected: dt.date) -> None:
    assert _one("claims", "service_date", value) == (expected, [])


@pytest.mark.parametrize("value", ["13/45/2026", "2026-02-30", "1/5/26", "05.01.2026", "Jan 5"])
def test_invalid_dates_fail_with_reason(value: str) -> None:
    parsed, reasons = _one("claims", "service_date", value)
    assert parsed is None
    assert reasons == ["service_date is not a date (expected YYYY-MM-DD or MM/DD/YYYY)"]


def test_fast_and_full_parsers_mix_within_a_column() -> None:
    values = ["2026-01-05", "1/6/2026 0:00", "bad", "01/07/2026", "2026-01-08T00:00:00", None]
    rows = [valid_row("claims", claim_id=f"C{i}", service_date=v) for i, v in enumerate(values)]
    result = normalize("claims", text_frame(rows))
    assert result.typed["service_date"].to_list() == [
        dt.date(2026, 1, 5), dt.date(2026, 1, 6), None, dt.date(2026, 1, 7), dt.date(2026, 1, 8),
        None,
    ]  # fmt: skip
    assert result.failures.select("source_row", "column").rows() == [(3, "service_date")]


def test_format_hint_is_tried_first_and_named_in_the_reason() -> None:
    hint = {"service_date": "%d.%m.%Y"}
    assert _one("claims", "service_date", "05.01.2026", hint) == (dt.date(2026, 1, 5), [])
    assert _one("claims", "service_date", "2026-01-05", hint) == (dt.date(2026, 1, 5), [])
    _, reasons = _one("claims", "service_date", "5th", hint)
    assert reasons == [
        "service_date is not a date (expected %d.%m.%Y as set in the mapping, "
        "or YYYY-MM-DD or MM/DD/YYYY)"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("09:00", dt.time(9)),
        ("9:00", dt.time(9)),
        ("09:00:30", dt.time(9, 0, 30)),
        ("9:15 PM", dt.time(21, 15)),
        ("25:00", None),
        ("9", None),
    ],
)
def test_times(value: str, expected: dt.time | None) -> None:
    parsed, reasons = _one("notes", "start_time", value)
    assert parsed == expected
    assert bool(reasons) == (expected is None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05 12:30", dt.datetime(2026, 1, 5, 12, 30)),
        ("2026-01-05T12:30:15", dt.datetime(2026, 1, 5, 12, 30, 15)),
        ("2026-01-05 12:30:15.250", dt.datetime(2026, 1, 5, 12, 30, 15, 250000)),
        ("01/05/2026 12:30", dt.datetime(2026, 1, 5, 12, 30)),
        ("1/5/2026 8:05:09", dt.datetime(2026, 1, 5, 8, 5, 9)),
        ("2026-01-05", dt.datetime(2026, 1, 5)),
        ("1/5/2026", dt.datetime(2026, 1, 5)),
        ("1/5/26 12:30", None),
        ("noon", None),
    ],
)
def test_datetimes(value: str, expected: dt.datetime | None) -> None:
    parsed, reasons = _one("notes", "signed_at", value)
    assert parsed == expected
    assert bool(reasons) == (expected is None)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("units", "3", 3),
        ("units", "3.0", 3),
        ("units", "+3", 3),
        ("units", "3.5", None),
        ("units", "1e3", None),
        ("units", "99999999999999999999", None),
        ("charge_amount", "$1,234.50", 1234.5),
        ("charge_amount", "1234.5", 1234.5),
        ("charge_amount", ".5", 0.5),
        ("charge_amount", "-$5", -5.0),
        ("charge_amount", "1.2E+05", 120000.0),  # spreadsheets write big numbers so
        ("charge_amount", "1,2,3", None),
        ("charge_amount", "nan", None),
        ("charge_amount", "inf", None),
        ("charge_amount", "$", None),
    ],
)
def test_numbers(column: str, value: str, expected: float | None) -> None:
    parsed, reasons = _one("claims", column, value)
    assert parsed == expected
    assert bool(reasons) == (expected is None)


@pytest.mark.parametrize(
    ("column", "value", "expected"),
    [
        ("payer_type", " MediCare ", "medicare"),
        ("procedure_code", "g0283", "G0283"),
        ("modifiers", "gp 59", "GP:59"),
        ("modifiers", "GP,59", "GP:59"),
        ("modifiers", " GP , 59 ", "GP:59"),
        ("modifiers", "GP;59", "GP;59"),  # ';' is not a separator: the contract check rejects it
        ("modifiers", "GP::59  KX", "GP:59:KX"),
        ("modifiers", ", ,", None),
        ("claim_id", "  C1  ", "C1"),
        ("patient_id", "00042", "00042"),
    ],
)
def test_text_normalisation(column: str, value: str, expected: str | None) -> None:
    assert _one("claims", column, value) == (expected, [])


def test_discipline_uppercased() -> None:
    assert _one("plans", "discipline", "slp") == ("SLP", [])
    assert _one("notes", "discipline", " ot ") == ("OT", [])


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("signed_at", "MRN-48213 pt fell"),
        ("start_time", "P000123"),
        ("minutes", "Jane Roe"),
        ("service_date", "x" * 500),
    ],
)
def test_reasons_never_quote_the_value(column: str, value: str) -> None:
    # under --redact a patient id typed into a checked column must not reach the quarantine
    _, reasons = _one("notes", column, value)
    assert len(reasons) == 1
    assert reasons[0].startswith(f"{column} is not a")
    assert value not in reasons[0] and value[:4] not in reasons[0]


def test_output_dtypes_and_columns_match_contract() -> None:
    for export, columns in COLUMNS.items():
        result = normalize(export, text_frame([valid_row(export)]))
        expected = {c.name: TARGET_DTYPES[c.kind] for c in columns}
        expected |= {SOURCE_FILE: pl.String(), SOURCE_ROW: pl.Int64()}
        if export == "notes":
            expected[MINUTES_DERIVED] = pl.Boolean()
        assert dict(result.typed.schema) == expected
        assert dict(result.failures.schema) == FAILURE_SCHEMA
        assert result.failures.height == 0


def test_missing_optional_column_is_null_missing_required_is_a_bug() -> None:
    frame = text_frame([valid_row("claims")]).drop("paid_amount", "modifiers")
    typed = normalize("claims", frame).typed
    assert typed["paid_amount"].to_list() == [None]
    with pytest.raises(ValueError, match="units"):
        normalize("claims", frame.drop("units"))


def test_plans_without_the_order_columns_read_them_as_null_dates() -> None:
    """An export from before the CY 2025 order path has neither column: both are null."""
    typed = normalize("plans", text_frame([valid_row("plans")])).typed
    for column in ("order_signed_date", "sent_date"):
        assert typed.schema[column] == pl.Date() and typed[column].to_list() == [None]
    row = valid_row("plans", order_signed_date="01/20/2026", sent_date="2026-02-15")
    typed = normalize("plans", text_frame([row])).typed
    assert typed["order_signed_date"].to_list() == [dt.date(2026, 1, 20)]
    assert typed["sent_date"].to_list() == [dt.date(2026, 2, 15)]


@pytest.mark.parametrize(
    ("start", "end", "minutes", "expected", "derived"),
    [
        ("09:00", "09:45", "", 45, True),
        ("09:00", "09:45:59", None, 45, True),
        ("09:00", "09:45", "30", 30, False),
        ("09:45", "09:00", "", None, False),  # end before start: TIME-INVALID's job, not ours
        ("09:00", "09:00", "", None, False),
        ("09:00", "", "", None, False),
        ("09:00", "09:45", "abc", None, False),  # unparseable is a failure, never derived
    ],
)
def test_minutes_derived_from_times(
    start: str, end: str, minutes: str | None, expected: int | None, derived: bool
) -> None:
    row = valid_row("notes", start_time=start, end_time=end, minutes=minutes)
    typed = normalize("notes", text_frame([row])).typed
    assert typed["minutes"].to_list() == [expected]
    assert typed[MINUTES_DERIVED].to_list() == [derived]


def _typed_claims(**columns: pl.Series) -> pl.DataFrame:
    base = text_frame([valid_row("claims"), valid_row("claims", claim_id="C2")])
    return base.with_columns(**columns)


def test_typed_columns_pass_through_or_convert() -> None:
    frame = _typed_claims(
        service_date=pl.Series([dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 6, 13)]),
        line_number=pl.Series([1.0, 2.0]),
        units=pl.Series([2, 3], dtype=pl.Int32),
        charge_amount=pl.Series([150, 75], dtype=pl.Int64),
        rendering_npi=pl.Series([float(NPI), float(NPI)]),
    )
    result = normalize("claims", frame)
    typed = result.typed
    assert result.failures.height == 0
    assert typed["service_date"].to_list() == [dt.date(2026, 1, 5), dt.date(2026, 1, 6)]
    assert typed["line_number"].to_list() == [1, 2]
    assert typed["units"].dtype == pl.Int64
    assert typed["charge_amount"].to_list() == [150.0, 75.0]
    assert typed["rendering_npi"].to_list() == [NPI, NPI]


def test_typed_values_that_do_not_fit_fail() -> None:
    frame = _typed_claims(
        units=pl.Series([2.5, 3.0]),
        charge_amount=pl.Series([float("nan"), 1.0]),
        service_date=pl.Series([20260105, 20260106]),
    )
    result = normalize("claims", frame)
    reasons = sorted(result.failures["reason"].to_list())
    assert reasons == [
        "charge_amount is not an amount (expected a number such as 1234.50 or $1,234.50)",
        "service_date is not a date (expected YYYY-MM-DD or MM/DD/YYYY)",
        "service_date is not a date (expected YYYY-MM-DD or MM/DD/YYYY)",
        "units is not a whole number",
    ]


def test_typed_time_and_datetime_columns() -> None:
    frame = text_frame([valid_row("notes")]).with_columns(
        # XLSX stores a time of day as a date-time on 1899-12-31 (calamine reads it so).
        start_time=pl.Series([dt.datetime(1899, 12, 31, 9, 0)], dtype=pl.Datetime("ms")),
        end_time=pl.Series([dt.timedelta(hours=9, minutes=30)]),
        signed_at=pl.Series([dt.datetime(2026, 1, 5, 12)], dtype=pl.Datetime("ms", "UTC")),
        service_date=pl.Series([dt.date(2026, 1, 5)]),
    )
    typed = normalize("notes", frame).typed
    assert typed["start_time"].to_list() == [dt.time(9)]
    assert typed["end_time"].to_list() == [dt.time(9, 30)]
    assert typed["signed_at"].to_list() == [dt.datetime(2026, 1, 5, 12)]
    assert typed.schema["signed_at"] == pl.Datetime("us")


# ------------------------------------------------- fast paths give what the full path gives
TEXT_COLUMNS = {e: [c.name for c in cols if c.kind == "text"] for e, cols in COLUMNS.items()}


def _full_text_path(frame: pl.DataFrame, name: str) -> pl.Series:
    """Every row through the clean-up, as normalize did before its fast paths."""
    return frame.select(text_clean(name)(as_text(pl.col(name), frame.schema[name]))).to_series()


@pytest.mark.parametrize("codes_by_distinct_value", [True, False])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_text_columns_equal_the_full_clean_up(
    codes_by_distinct_value: bool, data: st.DataObject
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        if not codes_by_distinct_value:
            patch.setattr(schemas.text, "code_values", lambda series: None)
        for export, names in TEXT_COLUMNS.items():
            n = data.draw(st.integers(1, 30))
            cells = st.lists(st.none() | TEXT, min_size=n, max_size=n)
            frame = text_frame([valid_row(export)] * n).with_columns(
                pl.Series(name, data.draw(cells), dtype=pl.String) for name in names
            )
            typed = normalize(export, frame).typed
            for name in names:
                assert_series_equal(typed[name], _full_text_path(frame, name), check_names=False)


def test_clean_text_columns_are_not_copied() -> None:
    frame = text_frame([valid_row("claims"), valid_row("claims", claim_id="C2")])
    typed = normalize("claims", frame).typed
    for name in TEXT_COLUMNS["claims"]:
        if name in frame.columns:  # the optional X12 columns are added as blank
            assert typed[name].equals(frame[name])
    assert typed["modifiers"].to_list() == ["GP", "GP"]


@pytest.mark.parametrize(
    "series",
    [
        pl.Series([1, None, -3]),
        pl.Series([0.0, float("nan"), float("inf"), -0.0, None, 1.5]),
        pl.Series([dt.date(2026, 1, 5), None]),
        pl.Series([dt.time(9), None]),
        pl.Series([dt.datetime(2026, 1, 5), None], dtype=pl.Datetime("ms", "UTC")),
        pl.Series([dt.timedelta(0), None]),
        pl.Series([True, False, None]),
        pl.Series(["", " ", "\u3000", "x", None]),
        pl.Series(["", " ", "x", None], dtype=pl.Categorical),
        pl.Series([None, None], dtype=pl.Null),
        pl.Series([[1], None]),
    ],
)
def test_is_blank_equals_blank_text(series: pl.Series) -> None:
    frame = series.to_frame("v")
    expected = frame.select(blank_to_null(as_text(pl.col("v"), series.dtype)).is_null())
    got = frame.select(is_blank(pl.col("v"), series.dtype))
    assert_series_equal(got.to_series(), expected.to_series())


@settings(max_examples=150, deadline=None)
@given(CELLS)
def test_text_is_blank_equals_blank_to_null(values: list[str | None]) -> None:
    frame = pl.Series("v", values, dtype=pl.String).to_frame()
    expected = frame.select(blank_to_null(pl.col("v")).is_null()).to_series()
    assert_series_equal(frame.select(text_is_blank(pl.col("v"))).to_series(), expected)


def test_typed_dates_outside_the_bounds_are_failures_not_values() -> None:
    # a Parquet or XLSX file can store a year-0 date, which no later stage can turn into Python
    frame = text_frame([valid_row("plans"), valid_row("plans", plan_id="PL2")]).with_columns(
        pl.Series("cert_end", [-719_893, 20_000], dtype=pl.Int32).cast(pl.Date)
    )
    result = normalize("plans", frame)
    assert result.typed["cert_end"].to_list() == [None, dt.date(2024, 10, 4)]
    assert result.failures.select("source_row", "column", "reason").rows() == [
        (1, "cert_end", "cert_end must be between 1900-01-01 and 2100-12-31")
    ]
