"""The canonical input contract: three exports, each a Pandera (polars backend) DataFrameModel.

The models check *typed* frames: ingest (flows/inputs/read.py) maps a billing system's columns onto
these names and parses text into the declared kinds first, so a value that cannot be parsed is
quarantined with its own reason before Pandera sees it. Pandera then checks values one row and
one column at a time. Anything that compares rows or joins exports is an audit rule in `checks/`.

Validate collected DataFrames: on a LazyFrame Pandera checks only the schema, not the data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from schemas.bounds import AMOUNT_MAX, MINUTES_MAX, UNITS_MAX
from schemas.distinct import code_values, duplicated, map_distinct

Kind = Literal["text", "int", "decimal", "date", "time", "datetime"]
# The export every audit needs, and the optional ones (given only when the practice has them: a
# payer-side audit often starts from claims alone; an absent optional export leaves every rule
# that needs it "not applicable"; remits replace the claims' paid and allowed amounts).
EXPORTS = ("claims",)
OPTIONAL_EXPORTS = ("notes", "plans", "providers", "remits")
ALL_EXPORTS = (*EXPORTS, *OPTIONAL_EXPORTS)
PAYER_TYPES = ("medicare", "medicaid", "commercial", "other")
DISCIPLINES = ("PT", "OT", "SLP", "BH")
# The kind of visit a note documents (Pub. 100-02 Ch. 15 §220.3: evaluation, progress report,
# daily note, discharge); input in any case, kept lower-case.
NOTE_TYPES = ("evaluation", "re-evaluation", "daily", "progress", "discharge")
# A provider's licence as the practice records it; input in any case, kept in these spellings.
ROLES = ("PT", "PTA", "OT", "OTA", "SLP", "SLPA", "LCSW", "LPC", "psychologist", "other")

# CPT: five digits; HCPCS Level II: one letter and four digits (the input contract).
PROCEDURE_CODE_PATTERN = r"^(?:[0-9]{5}|[A-Z][0-9]{4})$"
# Up to four two-character modifiers; ingest has already joined them with ':'.
MODIFIERS_PATTERN = r"^[A-Z0-9]{2}(?::[A-Z0-9]{2}){0,3}$"

SOURCE_FILE = "_source_file"
SOURCE_ROW = "_source_row"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool


CLAIMS_COLUMNS: tuple[Column, ...] = (
    Column("claim_id", "text", True),
    Column("line_number", "int", True),
    Column("patient_id", "text", True),
    Column("rendering_npi", "text", True),
    Column("payer_type", "text", True),
    Column("payer_id", "text", False),
    Column("service_date", "date", True),
    Column("procedure_code", "text", True),
    Column("modifiers", "text", False),
    Column("units", "int", True),
    Column("charge_amount", "decimal", True),
    Column("paid_amount", "decimal", False),
    # the payer's allowed amount (deductible and coinsurance included), optional
    Column("allowed_amount", "decimal", False),
    # the line item control number (837P REF*6R, loop 2400) an 835 returns, optional
    Column("line_control", "text", False),
    # how the line was read when not one-to-one (X12 minutes, a date range), shown as evidence
    Column("line_note", "text", False),
)
NOTES_COLUMNS: tuple[Column, ...] = (
    Column("note_id", "text", True),
    Column("patient_id", "text", True),
    Column("provider_npi", "text", True),
    Column("service_date", "date", True),
    Column("procedure_code", "text", True),
    Column("start_time", "time", False),
    Column("end_time", "time", False),
    Column("minutes", "int", False),
    Column("signed_at", "datetime", False),
    Column("note_text", "text", False),
    # the discipline whose plan the documented service was furnished under (optional)
    Column("discipline", "text", False),
    # evaluation, re-evaluation, daily, progress or discharge (optional)
    Column("note_type", "text", False),
)
PLANS_COLUMNS: tuple[Column, ...] = (
    Column("plan_id", "text", True),
    Column("patient_id", "text", True),
    Column("discipline", "text", False),
    Column("cert_start", "date", True),
    Column("cert_end", "date", True),
    Column("signed_date", "date", False),
    Column("certifying_npi", "text", False),
    # the CY 2025 initial-certification path: the physician's signed order and the day the plan
    # was sent to that physician (Pub. 100-02 ch. 15 §220.1.3)
    Column("order_signed_date", "date", False),
    Column("sent_date", "date", False),
)
PROVIDERS_COLUMNS: tuple[Column, ...] = (
    Column("npi", "text", True),
    Column("name", "text", False),
    Column("role", "text", False),
    Column("discipline", "text", False),
    # the supervising therapist of an assistant (optional)
    Column("supervising_npi", "text", False),
)
# What the payer paid per service line (ASC X12N 835 005010X221A1 loop 2110, or a table of the
# same columns), joined to the claim lines by checks/remits.py.
REMITS_COLUMNS: tuple[Column, ...] = (
    Column("claim_id", "text", True),
    Column("line_control", "text", False),
    Column("procedure_code", "text", False),
    Column("modifiers", "text", False),
    Column("service_date", "date", False),
    Column("units", "int", False),
    Column("charge_amount", "decimal", False),
    Column("paid_amount", "decimal", True),
    Column("allowed_amount", "decimal", False),
    # the contractual-obligation (CAS group CO) adjustments of the line
    Column("co_adjustment", "decimal", False),
    # every adjustment as group-reason amount ("CO-45 20.00; PR-2 5.00"), evidence only
    Column("adjustments", "text", False),
    Column("claim_status", "text", False),
)
COLUMNS: dict[str, tuple[Column, ...]] = {
    "claims": CLAIMS_COLUMNS,
    "notes": NOTES_COLUMNS,
    "plans": PLANS_COLUMNS,
    "providers": PROVIDERS_COLUMNS,
    "remits": REMITS_COLUMNS,
}


def npi_is_valid(expr: pl.Expr) -> pl.Expr:
    """True where `expr` is a 10-digit NPI whose last digit is its Luhn check digit.

    CMS NPI standard: Luhn over the prefix 80840 plus the first nine digits; the prefix always
    contributes 24 to the sum. From the right of the nine digits, every other digit (starting
    with the rightmost) is doubled and its digits summed.
    """
    digits = [expr.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(10)]
    total = pl.lit(24, dtype=pl.Int32)
    for i in range(9):
        d = digits[i]
        # positions 0, 2, 4, 6, 8 of the nine are doubled (the rightmost, index 8, is doubled)
        total = total + (((d * 2) // 10 + (d * 2) % 10) if i % 2 == 0 else d)
    check = (10 - total % 10) % 10
    return expr.str.contains(r"^[0-9]{10}$") & (check == digits[9])


def npi_check_digit(first_nine: str) -> int:
    """Luhn check digit for the first nine digits of an NPI (used by the generator and tests)."""
    total = 24
    for i, ch in enumerate(first_nine):
        d = int(ch)
        total += (d * 2 // 10 + d * 2 % 10) if i % 2 == 0 else d
    return (10 - total % 10) % 10


def _npi_check(data: PolarsData) -> pl.LazyFrame:
    # Ten expressions per row, and NPIs repeat (a provider bills many lines), so it runs once per
    # distinct NPI when the column allows.
    npis = data.lazyframe.select(pl.col(data.key)).collect().to_series()
    distinct = code_values(npis)
    if distinct is None:
        return data.lazyframe.select(npi_is_valid(pl.col(data.key)))
    return map_distinct(npis, npi_is_valid, distinct).to_frame().lazy()


def _code_check(data: PolarsData) -> pl.LazyFrame:
    return data.lazyframe.select(pl.col(data.key).str.contains(PROCEDURE_CODE_PATTERN))


def _not_blank(data: PolarsData) -> pl.LazyFrame:
    # Bytes, not characters: the same test, without decoding every id.
    return data.lazyframe.select(pl.col(data.key).str.strip_chars().str.len_bytes() > 0)


def _rows_unique(data: PolarsData, key: tuple[str, ...]) -> pl.LazyFrame:
    return (~duplicated(data.lazyframe.select(key).collect())).to_frame().lazy()


# Check names are what the quarantine shows; REASONS turns them into plain English.
VALID_NPI = "valid_npi"
PROCEDURE_CODE = "procedure_code_format"
NOT_BLANK = "not_blank"
# The name Pandera gives its own `Config.unique` check, which this one replaces (see ClaimsSchema).
UNIQUE_KEY = "multiple_fields_uniqueness"
CLAIM_LINE = ("claim_id", "line_number")
# The columns whose combination each model checks under UNIQUE_KEY, by export.
UNIQUE_KEYS: dict[str, tuple[str, ...]] = {"claims": CLAIM_LINE, "providers": ("npi",)}


class ClaimsSchema(pa.DataFrameModel):
    """One row per claim service line."""

    claim_id: str = pa.Field(nullable=False)
    line_number: int = pa.Field(nullable=False, ge=1)
    patient_id: str = pa.Field(nullable=False)
    rendering_npi: str = pa.Field(nullable=False)
    payer_type: str = pa.Field(nullable=False, isin=list(PAYER_TYPES))
    payer_id: str = pa.Field(nullable=True)
    service_date: dt.date = pa.Field(nullable=False)
    procedure_code: str = pa.Field(nullable=False)
    modifiers: str = pa.Field(nullable=True, str_matches=MODIFIERS_PATTERN)
    units: int = pa.Field(nullable=False, ge=0, le=UNITS_MAX)
    charge_amount: float = pa.Field(nullable=False, ge=0, le=AMOUNT_MAX)
    paid_amount: float = pa.Field(nullable=True, ge=0, le=AMOUNT_MAX)
    allowed_amount: float = pa.Field(nullable=True, ge=0, le=AMOUNT_MAX)

    class Config:
        strict = False

    @pa.check("rendering_npi", name=VALID_NPI)
    def _rendering_npi(cls, data: PolarsData) -> pl.LazyFrame:
        return _npi_check(data)

    # What `Config.unique = CLAIM_LINE` checks, under the same name and with the same failure
    # cases, with the cheaper duplicate test of schemas/distinct.py.
    @pa.dataframe_check(name=UNIQUE_KEY)
    def _claim_lines_unique(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows_unique(data, CLAIM_LINE)

    @pa.check("procedure_code", name=PROCEDURE_CODE)
    def _procedure_code(cls, data: PolarsData) -> pl.LazyFrame:
        return _code_check(data)

    @pa.check("claim_id", "patient_id", name=NOT_BLANK)
    def _ids_not_blank(cls, data: PolarsData) -> pl.LazyFrame:
        return _not_blank(data)


class NotesSchema(pa.DataFrameModel):
    """Session documentation: one row per documented service (a note may span several rows)."""

    note_id: str = pa.Field(nullable=False)
    patient_id: str = pa.Field(nullable=False)
    provider_npi: str = pa.Field(nullable=False)
    service_date: dt.date = pa.Field(nullable=False)
    procedure_code: str = pa.Field(nullable=False)
    start_time: dt.time = pa.Field(nullable=True)
    end_time: dt.time = pa.Field(nullable=True)
    minutes: int = pa.Field(nullable=True, ge=0, le=MINUTES_MAX)
    signed_at: dt.datetime = pa.Field(nullable=True)
    note_text: str = pa.Field(nullable=True)
    # optional: timed minutes pool per discipline (CMS Pub. 100-04 Ch. 5 §20.2)
    discipline: str = pa.Field(nullable=True, isin=list(DISCIPLINES))
    note_type: str = pa.Field(nullable=True, isin=list(NOTE_TYPES))

    class Config:
        strict = False

    @pa.check("provider_npi", name=VALID_NPI)
    def _provider_npi(cls, data: PolarsData) -> pl.LazyFrame:
        return _npi_check(data)

    @pa.check("procedure_code", name=PROCEDURE_CODE)
    def _procedure_code(cls, data: PolarsData) -> pl.LazyFrame:
        return _code_check(data)

    @pa.check("note_id", "patient_id", name=NOT_BLANK)
    def _ids_not_blank(cls, data: PolarsData) -> pl.LazyFrame:
        return _not_blank(data)


CERT_END_AFTER_START = "cert_end_on_or_after_cert_start"


class PlansSchema(pa.DataFrameModel):
    """Plans of care / treatment plans and their certification."""

    plan_id: str = pa.Field(nullable=False)
    patient_id: str = pa.Field(nullable=False)
    discipline: str = pa.Field(nullable=True, isin=list(DISCIPLINES))
    cert_start: dt.date = pa.Field(nullable=False)
    cert_end: dt.date = pa.Field(nullable=False)
    signed_date: dt.date = pa.Field(nullable=True)
    certifying_npi: str = pa.Field(nullable=True)
    order_signed_date: dt.date = pa.Field(nullable=True)
    sent_date: dt.date = pa.Field(nullable=True)

    class Config:
        strict = False

    @pa.check("plan_id", "patient_id", name=NOT_BLANK)
    def _ids_not_blank(cls, data: PolarsData) -> pl.LazyFrame:
        return _not_blank(data)

    # A single-row comparison of two columns of the same row: still the contract, not a rule.
    @pa.dataframe_check(name=CERT_END_AFTER_START)
    def _cert_order(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("cert_end") >= pl.col("cert_start"))


class ProvidersSchema(pa.DataFrameModel):
    """The practice's clinicians: one row per NPI (optional export)."""

    npi: str = pa.Field(nullable=False)
    name: str = pa.Field(nullable=True)
    role: str = pa.Field(nullable=True, isin=list(ROLES))
    discipline: str = pa.Field(nullable=True, isin=list(DISCIPLINES))
    supervising_npi: str = pa.Field(nullable=True)

    class Config:
        strict = False

    @pa.check("npi", "supervising_npi", name=VALID_NPI)
    def _npis(cls, data: PolarsData) -> pl.LazyFrame:
        return _npi_check(data)

    # One row per clinician: two rows of one NPI could disagree on the role the rules read.
    @pa.dataframe_check(name=UNIQUE_KEY)
    def _npi_unique(cls, data: PolarsData) -> pl.LazyFrame:
        return _rows_unique(data, UNIQUE_KEYS["providers"])


class RemitsSchema(pa.DataFrameModel):
    """Payments per service line (optional export). Amounts may be negative: a reversal (CLP02
    = 22) takes back an earlier payment."""

    claim_id: str = pa.Field(nullable=False)
    line_control: str = pa.Field(nullable=True)
    procedure_code: str = pa.Field(nullable=True)
    modifiers: str = pa.Field(nullable=True, str_matches=MODIFIERS_PATTERN)
    service_date: dt.date = pa.Field(nullable=True)
    # reversals are negative; the bounds keep every sum finite (schemas/bounds.py)
    units: int = pa.Field(nullable=True, ge=-UNITS_MAX, le=UNITS_MAX)
    charge_amount: float = pa.Field(nullable=True, ge=-AMOUNT_MAX, le=AMOUNT_MAX)
    paid_amount: float = pa.Field(nullable=False, ge=-AMOUNT_MAX, le=AMOUNT_MAX)
    allowed_amount: float = pa.Field(nullable=True, ge=-AMOUNT_MAX, le=AMOUNT_MAX)
    co_adjustment: float = pa.Field(nullable=True, ge=-AMOUNT_MAX, le=AMOUNT_MAX)
    adjustments: str = pa.Field(nullable=True)
    claim_status: str = pa.Field(nullable=True)

    class Config:
        strict = False

    @pa.check("claim_id", name=NOT_BLANK)
    def _ids_not_blank(cls, data: PolarsData) -> pl.LazyFrame:
        return _not_blank(data)


MODELS: dict[str, type[pa.DataFrameModel]] = {
    "claims": ClaimsSchema,
    "notes": NotesSchema,
    "plans": PlansSchema,
    "providers": ProvidersSchema,
    "remits": RemitsSchema,
}


def reason(check: str, column: str) -> str:
    """Plain-English reason for one Pandera failure (`check` as Pandera names it)."""
    if check == "not_nullable":
        return f"{column} is required but blank"
    if check == VALID_NPI:
        return f"{column} is not a valid NPI (10 digits with a correct check digit)"
    if check == PROCEDURE_CODE:
        return f"{column} is not a CPT (5 digits) or HCPCS (letter + 4 digits) code"
    if check == NOT_BLANK:
        return f"{column} is required but blank"
    if check == CERT_END_AFTER_START:
        return "cert_end is before cert_start"
    if check == UNIQUE_KEY:
        # `column` names the key's columns (schemas/validate.py reports the check under them)
        return f"duplicate ({column}): every row sharing the key is set aside"
    if check.startswith("greater_than_or_equal_to("):
        bound = check.removeprefix("greater_than_or_equal_to(").removesuffix(")")
        return f"{column} must be {bound} or more"
    if check.startswith("less_than_or_equal_to("):
        bound = check.removeprefix("less_than_or_equal_to(").removesuffix(")")
        return f"{column} must be {bound} or less"
    if check.startswith("isin("):
        allowed = {
            "payer_type": PAYER_TYPES,
            "discipline": DISCIPLINES,
            "note_type": NOTE_TYPES,
            "role": ROLES,
        }.get(column)
        listed = ", ".join(allowed) if allowed else check
        return f"{column} must be one of {listed}"
    if check.startswith("str_matches(") and column == "modifiers":
        return "modifiers must be up to four 2-character modifiers separated by ':', ',' or space"
    return f"{column} failed the check {check}"
