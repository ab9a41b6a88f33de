"""Every contract rule, passing and failing, as a truth table (normalize + validate_export).
The contract-valid rows it varies are in tests/support/rows.py."""

from __future__ import annotations

import pandera.errors as pa_errors
import pandera.polars as pa
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas.contract
from schemas.contract import (
    CLAIM_LINE,
    COLUMNS,
    SOURCE_FILE,
    SOURCE_ROW,
    UNIQUE_KEY,
    VALID_NPI,
    ClaimsSchema,
    npi_is_valid,
)
from schemas.normalize import normalize
from schemas.validate import PROBLEM_COLUMNS, ValidationResult, validate_export
from tests.support.rows import NPI, make_npi, text_frame, valid_row

NPI_2 = make_npi("198765432")
# The same digits in other scripts: `\d` matched them, the contract wants ASCII 0-9 only.
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
BAD_CHECK_DIGIT = NPI[:9] + str((int(NPI[9]) + 1) % 10)


def check(export: str, frame: pl.DataFrame) -> ValidationResult:
    normalized = normalize(export, frame)
    return validate_export(export, normalized.typed, normalized.failures)


# (export, column, raw value, expected reason substring — None means the row is accepted)
CASES: list[tuple[str, str, str | None, str | None]] = [
    # ---- claims
    ("claims", "claim_id", "C-0001", None),
    ("claims", "claim_id", "", "claim_id is required but blank"),
    ("claims", "claim_id", "   ", "claim_id is required but blank"),
    ("claims", "line_number", "3", None),
    ("claims", "line_number", "3.0", None),
    ("claims", "line_number", "0", "line_number must be 1 or more"),
    ("claims", "line_number", "1.5", "line_number is not a whole number"),
    ("claims", "line_number", "one", "line_number is not a whole number"),
    ("claims", "line_number", None, "line_number is required but blank"),
    ("claims", "patient_id", "00042", None),
    ("claims", "patient_id", "", "patient_id is required but blank"),
    ("claims", "rendering_npi", NPI_2, None),
    ("claims", "rendering_npi", BAD_CHECK_DIGIT, "rendering_npi is not a valid NPI"),
    ("claims", "rendering_npi", "12345", "rendering_npi is not a valid NPI"),
    ("claims", "rendering_npi", "12345678901", "rendering_npi is not a valid NPI"),
    ("claims", "rendering_npi", "", "rendering_npi is required but blank"),
    ("claims", "rendering_npi", NPI.translate(ARABIC_INDIC), "rendering_npi is not a valid NPI"),
    ("claims", "rendering_npi", NPI.translate(FULLWIDTH), "rendering_npi is not a valid NPI"),
    ("claims", "payer_type", "Medicare", None),
    ("claims", "payer_type", "medicaid", None),
    ("claims", "payer_type", "COMMERCIAL", None),
    ("claims", "payer_type", "other", None),
    ("claims", "payer_type", "self-pay", "payer_type must be one of medicare, medicaid"),
    ("claims", "payer_type", "", "payer_type is required but blank"),
    ("claims", "payer_id", "", None),
    ("claims", "payer_id", "BCBS-01", None),
    ("claims", "service_date", "2026-01-05", None),
    ("claims", "service_date", "01/05/2026", None),
    ("claims", "service_date", "1/5/2026", None),
    ("claims", "service_date", "2026-01-05 00:00:00", None),
    ("claims", "service_date", "2026-01-05T00:00:00", None),
    ("claims", "service_date", "13/45/2026", "service_date is not a date"),
    ("claims", "service_date", "2026-02-30", "service_date is not a date"),
    ("claims", "service_date", "1/5/26", "service_date is not a date"),
    ("claims", "service_date", "", "service_date is required but blank"),
    # Bounds (README, Input contract): a year 0 or 9999 date parses but overflowed later stages.
    ("claims", "service_date", "1900-01-01", None),
    ("claims", "service_date", "2100-12-31", None),
    ("claims", "service_date", "0000-01-01", "service_date must be between 1900-01-01 and 2100"),
    ("claims", "service_date", "1899-12-31", "service_date must be between 1900-01-01 and 2100"),
    ("claims", "service_date", "2101-01-01", "service_date must be between 1900-01-01 and 2100"),
    ("claims", "procedure_code", "97110", None),
    ("claims", "procedure_code", "g0283", None),
    ("claims", "procedure_code", "9711", "procedure_code is not a CPT"),
    ("claims", "procedure_code", "ABCDE", "procedure_code is not a CPT"),
    ("claims", "procedure_code", "", "procedure_code is required but blank"),
    ("claims", "procedure_code", "97110".translate(ARABIC_INDIC), "procedure_code is not a CPT"),
    ("claims", "procedure_code", "G" + "0283".translate(FULLWIDTH), "procedure_code is not a CPT"),
    ("claims", "modifiers", "", None),
    ("claims", "modifiers", "GP", None),
    ("claims", "modifiers", "gp 59", None),
    ("claims", "modifiers", "GP,59", None),
    ("claims", "modifiers", "GP:59:KX:XU", None),
    ("claims", "modifiers", "GP:59:KX:XU:76", "modifiers must be up to four"),
    ("claims", "modifiers", "G", "modifiers must be up to four"),
    ("claims", "modifiers", "GPX", "modifiers must be up to four"),
    ("claims", "units", "0", None),
    ("claims", "units", "4", None),
    ("claims", "units", "-1", "units must be 0 or more"),
    ("claims", "units", "2.5", "units is not a whole number"),
    ("claims", "units", "", "units is required but blank"),
    ("claims", "units", "9999", None),
    ("claims", "units", "2".translate(ARABIC_INDIC), "units is not a whole number"),
    ("claims", "units", "10000", "units must be 9999 or less"),
    ("claims", "charge_amount", "$1,234.50", None),
    ("claims", "charge_amount", "0", None),
    ("claims", "charge_amount", "-5.00", "charge_amount must be 0 or more"),
    ("claims", "charge_amount", "abc", "charge_amount is not an amount"),
    ("claims", "charge_amount", "", "charge_amount is required but blank"),
    ("claims", "charge_amount", "10000000", None),
    ("claims", "charge_amount", "150.00".translate(ARABIC_INDIC), "charge_amount is not an amount"),
    ("claims", "charge_amount", "10000000.01", "charge_amount must be 10000000 or less"),
    ("claims", "charge_amount", "inf", "charge_amount is not an amount"),
    ("claims", "paid_amount", "", None),
    ("claims", "paid_amount", "12.5", None),
    ("claims", "paid_amount", "1e308", "paid_amount must be 10000000 or less"),
    ("claims", "paid_amount", "1e400", "paid_amount is not an amount"),
    ("claims", "paid_amount", "NaN", "paid_amount is not an amount"),
    ("claims", "paid_amount", "-1", "paid_amount must be 0 or more"),
    ("claims", "paid_amount", "1,2,3", "paid_amount is not an amount"),
    ("claims", "allowed_amount", "", None),
    ("claims", "allowed_amount", "$2,480.00", None),
    ("claims", "allowed_amount", "0", None),
    ("claims", "allowed_amount", "-0.01", "allowed_amount must be 0 or more"),
    ("claims", "allowed_amount", "2E+7", "allowed_amount must be 10000000 or less"),
    ("claims", "allowed_amount", "n/a", "allowed_amount is not an amount"),
    # ---- notes
    ("notes", "note_id", "N-9", None),
    ("notes", "note_id", "", "note_id is required but blank"),
    ("notes", "patient_id", "P9", None),
    ("notes", "patient_id", " ", "patient_id is required but blank"),
    ("notes", "provider_npi", NPI_2, None),
    ("notes", "provider_npi", BAD_CHECK_DIGIT, "provider_npi is not a valid NPI"),
    ("notes", "provider_npi", "", "provider_npi is required but blank"),
    ("notes", "provider_npi", NPI.translate(ARABIC_INDIC), "provider_npi is not a valid NPI"),
    ("notes", "service_date", "01/05/2026", None),
    ("notes", "service_date", "2026-01-05".translate(ARABIC_INDIC), "service_date is not a date"),
    ("notes", "service_date", "2026/01/05", "service_date is not a date"),
    ("notes", "service_date", "", "service_date is required but blank"),
    ("notes", "procedure_code", "90837", None),
    ("notes", "procedure_code", "908370", "procedure_code is not a CPT"),
    ("notes", "procedure_code", "", "procedure_code is required but blank"),
    ("notes", "procedure_code", "90837".translate(ARABIC_INDIC), "procedure_code is not a CPT"),
    ("notes", "start_time", "9:00", None),
    ("notes", "start_time", "09:00:00", None),
    ("notes", "start_time", "", None),
    ("notes", "start_time", "07:00:59", None),
    ("notes", "start_time", "07:00:60", "start_time is not a time"),
    ("notes", "start_time", "07:60", "start_time is not a time"),
    ("notes", "start_time", "7:00:60 AM", "start_time is not a time"),
    ("notes", "start_time", "09:00".translate(ARABIC_INDIC), "start_time is not a time"),
    ("notes", "start_time", "25:00", "start_time is not a time"),
    ("notes", "end_time", "09:30:00", None),
    ("notes", "end_time", "", None),
    ("notes", "end_time", "half past", "end_time is not a time"),
    ("notes", "minutes", "", None),
    ("notes", "minutes", "45", None),
    ("notes", "minutes", "-5", "minutes must be 0 or more"),
    ("notes", "minutes", "ten", "minutes is not a whole number"),
    ("notes", "minutes", "1440", None),
    ("notes", "minutes", "1441", "minutes must be 1440 or less"),
    ("notes", "signed_at", "2026-01-05T12:00:00", None),
    ("notes", "signed_at", "01/05/2026 12:00", None),
    ("notes", "signed_at", "2026-01-05", None),
    ("notes", "signed_at", "", None),
    ("notes", "signed_at", "2026-01-05 12:00:60", "signed_at is not a date-time"),
    ("notes", "signed_at", "yesterday", "signed_at is not a date-time"),
    ("notes", "signed_at", "0001-01-01 00:00", "signed_at must be between 1900-01-01 and 2100"),
    ("notes", "service_date", "9999-12-31", "service_date must be between 1900-01-01 and 2100"),
    ("notes", "note_text", "", None),
    ("notes", "note_text", "=1+1 looks like a formula", None),
    ("notes", "discipline", "ot", None),
    ("notes", "discipline", " BH ", None),
    ("notes", "discipline", "", None),
    ("notes", "discipline", "PTA", "discipline must be one of PT, OT, SLP, BH"),
    ("notes", "note_type", "", None),
    ("notes", "note_type", "Evaluation", None),
    ("notes", "note_type", " RE-EVALUATION ", None),
    ("notes", "note_type", "progress", None),
    ("notes", "note_type", "Daily", None),
    ("notes", "note_type", "discharge", None),
    ("notes", "note_type", "progress report", "note_type must be one of evaluation, re-eval"),
    ("notes", "note_type", "eval", "note_type must be one of evaluation, re-evaluation, daily"),
    # ---- plans
    ("plans", "plan_id", "PL-7", None),
    ("plans", "plan_id", "", "plan_id is required but blank"),
    ("plans", "patient_id", "P7", None),
    ("plans", "patient_id", "", "patient_id is required but blank"),
    ("plans", "discipline", "pt", None),
    ("plans", "discipline", "SLP", None),
    ("plans", "discipline", "", None),
    ("plans", "discipline", "XX", "discipline must be one of PT, OT, SLP, BH"),
    ("plans", "cert_start", "01/01/2026", None),
    ("plans", "cert_start", "", "cert_start is required but blank"),
    ("plans", "cert_start", "Jan 1", "cert_start is not a date"),
    ("plans", "cert_end", "2026-01-01", None),  # equal to cert_start is fine
    ("plans", "cert_end", "2025-12-31", "cert_end is before cert_start"),
    ("plans", "cert_end", "", "cert_end is required but blank"),
    ("plans", "cert_end", "31/03/2026", "cert_end is not a date"),
    ("plans", "cert_end", "2101-01-01", "cert_end must be between 1900-01-01 and 2100-12-31"),
    ("plans", "signed_date", "", None),
    ("plans", "signed_date", "2026-13-01", "signed_date is not a date"),
    ("plans", "certifying_npi", "", None),
    # The contract has no NPI check on certifying_npi (only rendering/provider NPIs).
    ("plans", "certifying_npi", "123", None),
    ("plans", "order_signed_date", "", None),
    ("plans", "order_signed_date", "01/20/2026", None),
    ("plans", "order_signed_date", "2026-02-30", "order_signed_date is not a date"),
    ("plans", "sent_date", "", None),
    ("plans", "sent_date", "2026-02-15", None),
    ("plans", "sent_date", "soon", "sent_date is not a date"),
    ("plans", "sent_date", "1066-10-14", "sent_date must be between 1900-01-01 and 2100-12-31"),
    # ---- providers (optional export)
    ("providers", "npi", NPI_2, None),
    ("providers", "npi", "", "npi is required but blank"),
    ("providers", "npi", BAD_CHECK_DIGIT, "npi is not a valid NPI"),
    ("providers", "npi", "123456789", "npi is not a valid NPI"),
    ("providers", "npi", NPI.translate(ARABIC_INDIC), "npi is not a valid NPI"),
    ("providers", "name", "", None),
    ("providers", "name", "=HYPERLINK() looks like a formula", None),
    ("providers", "role", "", None),
    ("providers", "role", "pta", None),
    ("providers", "role", "Psychologist", None),
    ("providers", "role", " lcsw ", None),
    ("providers", "role", "OTHER", None),
    ("providers", "role", "nurse", "role must be one of PT, PTA, OT, OTA, SLP, SLPA, LCSW"),
    ("providers", "role", "PT Assistant", "role must be one of PT, PTA"),
    ("providers", "discipline", "", None),
    ("providers", "discipline", "slp", None),
    ("providers", "discipline", "PTA", "discipline must be one of PT, OT, SLP, BH"),
    ("providers", "supervising_npi", "", None),
    ("providers", "supervising_npi", NPI_2, None),
    ("providers", "supervising_npi", BAD_CHECK_DIGIT, "supervising_npi is not a valid NPI"),
    # the claims' X12 columns: free text, read as given (ASC X12N 005010X222A1 loop 2400 REF*6R)
    ("claims", "line_control", "", None),
    ("claims", "line_control", "CTL-0001", None),
    ("claims", "line_note", "units: 38 minutes billed (SV103 MJ) read as 3 unit(s)", None),
    # remittances (835 loop 2110, or a table of the same columns); a reversal is negative
    ("remits", "claim_id", "C1", None),
    ("remits", "claim_id", "", "claim_id is required but blank"),
    ("remits", "line_control", "", None),
    ("remits", "procedure_code", "", None),
    ("remits", "procedure_code", "97110", None),
    ("remits", "modifiers", "GP KX", None),
    ("remits", "modifiers", "GPKX", "modifiers must be up to four 2-character modifiers"),
    ("remits", "service_date", "", None),
    ("remits", "service_date", "2026-13-01", "service_date is not a date"),
    ("remits", "units", "", None),
    ("remits", "units", "1.5", "units is not a whole number"),
    ("remits", "charge_amount", "-100.00", None),
    ("remits", "charge_amount", "ten", "charge_amount is not an amount"),
    ("remits", "paid_amount", "-60.00", None),
    ("remits", "paid_amount", "1e308", "paid_amount must be 10000000 or less"),
    ("remits", "co_adjustment", "-2e7", "co_adjustment must be -10000000 or more"),
    ("remits", "units", "-10000", "units must be -9999 or more"),
    ("remits", "paid_amount", "", "paid_amount is required but blank"),
    ("remits", "allowed_amount", "", None),
    ("remits", "allowed_amount", "x", "allowed_amount is not an amount"),
    ("remits", "co_adjustment", "", None),
    ("remits", "co_adjustment", "x", "co_adjustment is not an amount"),
    ("remits", "adjustments", "CO-45 20.00; PR-2 5.00", None),
    ("remits", "claim_status", "22", None),
]


@pytest.mark.parametrize(
    ("export", "column", "value", "expected"),
    CASES,
    ids=[f"{e}.{c}={v!r}" for e, c, v, _ in CASES],
)
def test_truth_table(export: str, column: str, value: str | None, expected: str | None) -> None:
    result = check(export, text_frame([valid_row(export, **{column: value})]))
    reasons = result.problems["reason"].to_list()
    if expected is None:
        assert reasons == []
        assert (result.rows_accepted, result.rows_quarantined) == (1, 0)
    else:
        # Exactly one problem: a failed parse is not *also* reported as a blank value.
        assert len(reasons) == 1, reasons
        assert expected in reasons[0]
        assert result.problems["column"].to_list() == [column]
        assert (result.rows_accepted, result.rows_quarantined) == (0, 1)


def test_truth_table_covers_every_column() -> None:
    passing = {(e, c) for e, c, _, exp in CASES if exp is None}
    failing = {(e, c) for e, c, _, exp in CASES if exp is not None}
    unchecked = {
        ("claims", "payer_id"),
        ("notes", "note_text"),
        ("plans", "certifying_npi"),
        ("providers", "name"),
        ("claims", "line_control"),
        ("claims", "line_note"),
        ("remits", "line_control"),
        ("remits", "adjustments"),
        ("remits", "procedure_code"),
        ("remits", "claim_status"),
    }
    for export, columns in COLUMNS.items():
        for column in columns:
            assert (export, column.name) in passing
            if (export, column.name) not in unchecked:
                assert (export, column.name) in failing


def test_duplicate_claim_key_sets_aside_every_row() -> None:
    rows = [valid_row("claims"), valid_row("claims"), valid_row("claims", line_number="2")]
    result = check("claims", text_frame(rows))
    assert result.problems["source_row"].to_list() == [1, 2]
    assert set(result.problems["column"]) == {"claim_id, line_number"}
    assert result.problems["reason"][0].startswith("duplicate (claim_id, line_number)")
    assert result.accepted["line_number"].to_list() == [2]


def test_duplicate_provider_npi_sets_aside_every_row() -> None:
    rows = [valid_row("providers"), valid_row("providers", role="PTA"),
            valid_row("providers", npi=NPI_2)]  # fmt: skip
    result = check("providers", text_frame(rows))
    assert result.problems["source_row"].to_list() == [1, 2]
    assert set(result.problems["column"]) == {"npi"}
    assert result.problems["reason"][0] == "duplicate (npi): every row sharing the key is set aside"
    assert result.accepted["npi"].to_list() == [NPI_2]


def test_codes_are_kept_in_the_contract_spelling() -> None:
    roles = ["pta", "PSYCHOLOGIST", "Lpc", "slpa"]
    rows = [valid_row("providers", npi=make_npi(f"1{i:08d}"), role=r) for i, r in enumerate(roles)]
    assert check("providers", text_frame(rows)).accepted["role"].to_list() == [
        "PTA", "psychologist", "LPC", "SLPA"
    ]  # fmt: skip
    types = ["EVALUATION", "Re-Evaluation", "daily", " Progress "]
    notes = [valid_row("notes", note_id=f"N{i}", note_type=t) for i, t in enumerate(types)]
    assert check("notes", text_frame(notes)).accepted["note_type"].to_list() == [
        "evaluation", "re-evaluation", "daily", "progress"
    ]  # fmt: skip


def test_rows_with_blank_key_are_not_called_duplicates() -> None:
    rows = [valid_row("claims", line_number=""), valid_row("claims", line_number="x")]
    result = check("claims", text_frame(rows))
    assert result.problems["reason"].to_list() == [
        "line_number is required but blank",
        "line_number is not a whole number",
    ]


def test_same_line_number_on_different_claims_is_fine() -> None:
    rows = [valid_row("claims"), valid_row("claims", claim_id="C2")]
    assert check("claims", text_frame(rows)).rows_accepted == 2


def test_problems_frame_shape_and_order() -> None:
    rows = [
        valid_row("claims", units="-1", payer_type="x"),
        valid_row("claims", claim_id="C2", charge_amount="?"),
    ]
    result = check("claims", text_frame(rows))
    assert tuple(result.problems.columns) == PROBLEM_COLUMNS
    assert result.problems.select("source_row", "column").rows() == [
        (1, "payer_type"),
        (1, "units"),
        (2, "charge_amount"),
    ]
    assert set(result.problems["export"]) == {"claims"}


def test_accepted_rows_keep_source_columns_and_types() -> None:
    result = check("notes", text_frame([valid_row("notes", minutes="")]))
    accepted = result.accepted
    assert accepted[SOURCE_FILE].to_list() == ["f.csv"]
    assert accepted[SOURCE_ROW].to_list() == [1]
    assert accepted["minutes_derived"].to_list() == [True]
    assert accepted["minutes"].to_list() == [30]
    assert accepted.schema["signed_at"] == pl.Datetime("us")


def test_nothing_wrong_accepts_the_typed_frame_itself() -> None:
    normalized = normalize("claims", text_frame([valid_row("claims")]))
    result = validate_export("claims", normalized.typed, normalized.failures)
    assert result.accepted is normalized.typed


def test_rows_per_file_when_files_interleave() -> None:
    parts = (("b.csv", ["B1", ""]), ("a.csv", ["A1"]), ("b.csv", ["B3", "B4", "B5"]))
    frames = [text_frame([valid_row("plans", plan_id=i) for i in ids], f) for f, ids in parts]
    frame = pl.concat(frames).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(SOURCE_FILE).alias(SOURCE_ROW)
    )
    by_file = check("plans", frame).by_file
    assert by_file.rows() == [("a.csv", 1, 1, 0), ("b.csv", 5, 4, 1)]


# ------------------------------------------ the fast checks equal the direct/built-in ones
def _failures(schema: pa.DataFrameSchema | type[pa.DataFrameModel], typed: pl.DataFrame, name):
    try:
        schema.validate(typed, lazy=True)
    except pa_errors.SchemaErrors as err:
        cases = err.failure_cases.filter(pl.col("check") == name)
        return cases.select("index", "failure_case").sort("index").rows()
    return []


KEY_VALUES = st.tuples(st.sampled_from(["C1", "C2", "C3"]), st.sampled_from(["1", "2", "", "x"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(KEY_VALUES, min_size=1, max_size=12))
def test_claim_line_uniqueness_equals_pandera_unique(keys: list[tuple[str, str]]) -> None:
    rows = [valid_row("claims", claim_id=c, line_number=n) for c, n in keys]
    typed = normalize("claims", text_frame(rows)).typed
    builtin = pa.DataFrameSchema(unique=list(CLAIM_LINE))
    assert _failures(ClaimsSchema, typed, UNIQUE_KEY) == _failures(builtin, typed, UNIQUE_KEY)


NPI_CELLS = ["", "12345", NPI, NPI_2, BAD_CHECK_DIGIT, "\u0661" * 10, "\uff11" + NPI[1:], "x" * 10]


@pytest.mark.parametrize("by_distinct_value", [True, False])
def test_npi_check_equals_the_check_on_every_row(by_distinct_value: bool) -> None:
    rows = [valid_row("claims", claim_id=f"C{i}", rendering_npi=v) for i, v in enumerate(NPI_CELLS)]
    typed = normalize("claims", text_frame(rows)).typed
    direct = typed.select(npi_is_valid(pl.col("rendering_npi"))).to_series()
    expected = [(i, typed["rendering_npi"][i]) for i, ok in enumerate(direct) if ok is False]
    with pytest.MonkeyPatch.context() as patch:
        if not by_distinct_value:
            patch.setattr(schemas.contract, "code_values", lambda series: None)
        assert _failures(ClaimsSchema, typed, VALID_NPI) == expected
