"""Parse one export's columns into the contract's kinds (pure polars, no file I/O).

Ingest (flows/inputs/read.py) hands over a frame already renamed onto contract names, plus
`_source_file` and `_source_row`. CSV columns arrive as text; Parquet/XLSX columns may already be
typed. Each contract column is parsed by its `kind` (schemas.contract.COLUMNS). A non-blank value
that does not parse becomes null and a failure record, so the quarantine can say *why* instead of
Pandera later reporting "required but blank" (schemas.validate drops that duplicate).

Everything is vectorised expressions: this runs on ten-million-row exports. Two passes per
column: a cheap regex-free parse of the common shapes over every row, then the full parser
(US dates, date-times in date columns, "$1,234.50", AM/PM ...) only on the rows the first pass
could not read, which are usually few. Text columns are cleaned by schemas/text.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl
from polars.datatypes import TemporalType

from schemas.bounds import DATE_MAX, DATE_MIN, date_range_reason
from schemas.contract import (
    COLUMNS,
    SOURCE_FILE,
    SOURCE_ROW,
    Column,
    Kind,
)
from schemas.text import as_text, blank_to_null, clean_text_columns, is_blank

MINUTES_DERIVED = "minutes_derived"

FAILURE_SCHEMA = pl.Schema(
    {
        "source_file": pl.String(),
        "source_row": pl.Int64(),
        "column": pl.String(),
        "reason": pl.String(),
    }
)

TARGET_DTYPES: dict[Kind, pl.DataType] = {
    "text": pl.String(),
    "int": pl.Int64(),
    "decimal": pl.Float64(),
    "date": pl.Date(),
    "time": pl.Time(),
    # Pandera maps `dt.datetime` to microseconds, naive; any other unit fails its dtype check.
    "datetime": pl.Datetime("us"),
}

# (noun, default formats) for the failure reason; a mapping's format hint is named first.
_EXPECTED: dict[Kind, tuple[str, str]] = {
    "int": ("a whole number", ""),
    "decimal": ("an amount", "a number such as 1234.50 or $1,234.50"),
    "date": ("a date", "YYYY-MM-DD or MM/DD/YYYY"),
    "time": ("a time", "HH:MM or HH:MM:SS"),
    "datetime": ("a date-time", "YYYY-MM-DD HH:MM[:SS] or MM/DD/YYYY HH:MM[:SS]"),
}

_MINUTES_BLANK = "__minutes_blank"
_NEEDS_MORE = "__needs_more__"

# US dates are rewritten to ISO so one strptime format per shape covers both (`M/D/YYYY` too).
# The 4-digit year is required: polars' %Y would read "1/5/26" as the year 26.
_US_DATE = r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\b"
_ISO_DATE_PREFIX = r"^([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})"
_TIME_SUFFIX = r"(?:[ T]\s*[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:\s*[AaPp][Mm])?)?$"
_TIME_FORMATS = ("%H:%M", "%H:%M:%S%.f", "%I:%M %p", "%I:%M%p", "%I:%M:%S %p")
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y-%m-%d %I:%M %p",
    "%Y-%m-%d %I:%M:%S %p",
)
# Thousands separators only in groups of three, so "1,2,3" is not silently read as 123.
_AMOUNT = r"^[+-]?\$?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.[0-9]*)?$"


@dataclass(frozen=True)
class Normalized:
    """`typed`: contract columns in contract dtypes + `_source_file`, `_source_row` (and
    `minutes_derived` for notes). `failures`: one row per unparseable value (FAILURE_SCHEMA)."""

    typed: pl.DataFrame
    failures: pl.DataFrame


def _us_to_iso(text: pl.Expr) -> pl.Expr:
    return text.str.replace(_US_DATE, "${3}-${1}-${2}")


def _parse_date(text: pl.Expr) -> pl.Expr:
    # A date-time in a date column (Excel writes "2026-01-05 00:00:00") is accepted as its date.
    date_part = _us_to_iso(text).str.extract(_ISO_DATE_PREFIX + _TIME_SUFFIX, 1)
    return date_part.str.strptime(pl.Date, "%Y-%m-%d", strict=False)


def _parse_time(text: pl.Expr) -> pl.Expr:
    return pl.coalesce([text.str.strptime(pl.Time, f, strict=False) for f in _TIME_FORMATS])


def _parse_datetime(text: pl.Expr) -> pl.Expr:
    iso = _us_to_iso(text).str.replace(_ISO_DATE_PREFIX + r"[T ]\s*", "${1} ")
    parsed = [iso.str.strptime(pl.Datetime("us"), f, strict=False) for f in _DATETIME_FORMATS]
    return pl.when(iso.str.contains(r"^[0-9]{4}-")).then(pl.coalesce(parsed))


def _hinted(kind: Kind, text: pl.Expr, hint: str) -> pl.Expr:
    if kind == "time":
        return text.str.strptime(pl.Time, hint, strict=False)
    parsed = text.str.strptime(pl.Datetime("us"), hint, strict=False)
    return parsed.dt.date() if kind == "date" else parsed


def _plausible_year(parsed: pl.Expr) -> pl.Expr:
    # polars' %Y also reads "26" or "20261"; a four-digit year is what the formats promise.
    return pl.when(parsed.dt.year().is_between(1000, 9999)).then(parsed)


def _no_sixty(text: pl.Expr, parsed: pl.Expr) -> pl.Expr:
    # strptime reads second 60 as a leap second and rolls 07:00:60 over to 07:01:00; neither
    # minutes nor seconds may be 60, so ":60" anywhere is not a time (a literal search is cheap).
    return pl.when(~text.str.contains(":60", literal=True)).then(parsed)


def _parse_fast(kind: Kind, text: pl.Expr, hint: str | None) -> pl.Expr:
    """The common shapes only, with no regex: cheap enough for every row of a large export.
    Whatever it leaves null is re-parsed by `_parse_text` on just those rows."""
    if kind == "int":
        return text.cast(pl.Int64, strict=False)
    if kind == "decimal":
        as_float = text.cast(pl.Float64, strict=False)
        return pl.when(as_float.is_finite()).then(as_float)
    formats = {
        "date": ("%Y-%m-%d", "%m/%d/%Y"),
        "time": ("%H:%M", "%H:%M:%S"),
        "datetime": ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"),
    }[kind]
    dtype = TARGET_DTYPES[kind]
    assert isinstance(dtype, TemporalType)  # int and decimal returned above
    parsed = [text.str.strptime(dtype, f, strict=False) for f in formats]
    standard = pl.coalesce(parsed) if kind == "time" else _plausible_year(pl.coalesce(parsed))
    value = standard if hint is None else pl.coalesce([_hinted(kind, text, hint), standard])
    return value if kind == "date" else _no_sixty(text, value)


def _parse_text(kind: Kind, text: pl.Expr, hint: str | None) -> pl.Expr:
    """Parse cleaned (stripped, blank → null) text into `kind`; null where it does not parse."""
    if kind == "int":
        # "3" and "3.0" are whole numbers (spreadsheets write the latter), "3.5" is not.
        return text.str.extract(r"^([+-]?[0-9]+)(?:\.0*)?$", 1).cast(pl.Int64, strict=False)
    if kind == "decimal":
        ok = text.str.contains(_AMOUNT) & text.str.contains(r"[0-9]")
        cleaned = text.str.replace_all(r"[$,]", "").cast(pl.Float64, strict=False)
        # Scientific notation ("1.2E+05") is how spreadsheets write big numbers.
        return pl.coalesce([pl.when(ok).then(cleaned), _parse_fast(kind, text, None)])
    parser = {"date": _parse_date, "time": _parse_time, "datetime": _parse_datetime}[kind]
    # The mapping's own format is tried first; the standard shapes still apply after it.
    value = parser(text) if hint is None else pl.coalesce([_hinted(kind, text, hint), parser(text)])
    return value if kind == "date" else _no_sixty(text, value)


def _parse_typed(kind: Kind, raw: pl.Expr, dtype: pl.DataType) -> pl.Expr | None:
    """Parse an already-typed column (Parquet/XLSX), or None to fall back to text parsing."""
    if kind == "int" and dtype.is_integer():
        return raw.cast(pl.Int64, strict=False)
    if kind == "int" and dtype.is_float():
        return pl.when(raw.is_finite() & (raw == raw.floor())).then(
            raw.cast(pl.Int64, strict=False)
        )
    if kind == "decimal" and dtype.is_numeric():
        as_float = raw.cast(pl.Float64, strict=False)
        return pl.when(as_float.is_finite()).then(as_float)
    if isinstance(dtype, pl.Datetime):
        naive = raw.dt.replace_time_zone(None) if dtype.time_zone else raw
        if kind == "date":
            return naive.dt.date()
        if kind == "time":
            return naive.dt.time()
        if kind == "datetime":
            return naive.cast(pl.Datetime("us"))
    if kind == "datetime" and dtype == pl.Date:
        return raw.cast(pl.Datetime("us"))
    if kind == "time" and isinstance(dtype, pl.Duration):
        ns = raw.dt.total_nanoseconds()
        return pl.when((ns >= 0) & (ns < 86_400 * 10**9)).then(ns.cast(pl.Time))
    return None


@dataclass(frozen=True)
class _Plan:
    """How one non-text column is parsed: `value` for every row; rows where `value` is null
    but the cell was not blank (`needs_more`) get `slow` (None: they are failures)."""

    column: Column
    value: pl.Expr
    needs_more: pl.Expr
    cleaned: pl.Expr
    slow: pl.Expr | None


def _plan(column: Column, dtype: pl.DataType, hint: str | None) -> _Plan | None:
    raw = pl.col(column.name)
    # Already the contract's type: nothing can fail. Except amounts: NaN/inf are Float64 too.
    if dtype == TARGET_DTYPES[column.kind] and column.kind != "decimal":
        return None
    cleaned = blank_to_null(as_text(raw, dtype))
    typed = _parse_typed(column.kind, raw, dtype)
    if typed is not None:
        value = typed.cast(TARGET_DTYPES[column.kind])
        return _Plan(column, value, value.is_null() & raw.is_not_null(), cleaned, None)
    value = _parse_fast(column.kind, cleaned, hint).cast(TARGET_DTYPES[column.kind])
    slow = _parse_text(column.kind, pl.col("text"), hint).cast(TARGET_DTYPES[column.kind])
    return _Plan(column, value, value.is_null() & cleaned.is_not_null(), cleaned, slow)


def _reason(column: Column, hint: str | None) -> str:
    """Parse-failure reason: the column and what was expected, never the value itself (it may be
    a patient id or note text typed into the wrong column, and reasons reach every output)."""
    noun, defaults = _EXPECTED[column.kind]
    expected = [f"{hint} as set in the mapping"] if hint else []
    expected += [defaults] if defaults else []
    tail = f" (expected {', or '.join(expected)})" if expected else ""
    return f"{column.name} is not {noun}{tail}"


def normalize(
    export: str, frame: pl.DataFrame, formats: Mapping[str, str] | None = None
) -> Normalized:
    """Parse `frame` (one export, contract column names) into the contract's dtypes.

    `formats` maps a date/time/datetime column to a strptime format from the mapping file,
    tried before the standard shapes. Optional contract columns missing from `frame` are
    added as null; a missing required column is a programming error (ingest rejects the file).
    """
    if export not in COLUMNS:
        raise ValueError(f"unknown export {export!r}; expected one of {sorted(COLUMNS)}")
    formats = dict(formats or {})
    columns = COLUMNS[export]
    missing = [c.name for c in columns if c.required and c.name not in frame.columns]
    missing += [c for c in (SOURCE_FILE, SOURCE_ROW) if c not in frame.columns]
    if missing:
        raise ValueError(f"{export} frame lacks columns {missing}")
    frame = frame.with_columns(
        pl.lit(None, pl.String).alias(c.name) for c in columns if c.name not in frame.columns
    ).with_columns(pl.col(SOURCE_FILE).cast(pl.String), pl.col(SOURCE_ROW).cast(pl.Int64))
    schema = frame.schema
    texts = clean_text_columns(frame, [c.name for c in columns if c.kind == "text"])
    frame = frame.with_columns(v for v in texts.values() if isinstance(v, pl.Series))

    values: list[pl.Expr] = []
    plans: list[_Plan] = []
    for column in columns:
        if column.kind == "text":
            text = texts[column.name]
            values.append(
                pl.col(column.name) if isinstance(text, pl.Series) else text.alias(column.name)
            )
            continue
        plan = _plan(column, schema[column.name], formats.get(column.name))
        if plan is None:
            values.append(pl.col(column.name))
        else:
            plans.append(plan)
            values.append(plan.value.alias(column.name))
            values.append(plan.needs_more.alias(_NEEDS_MORE + column.name))
    if export == "notes":
        values.append(is_blank(pl.col("minutes"), schema["minutes"]).alias(_MINUTES_BLANK))
    wide = frame.select(pl.col(SOURCE_FILE), pl.col(SOURCE_ROW), *values)

    # Second pass on the few rows the fast path could not read: full parser, else a failure.
    failures = [pl.DataFrame(schema=FAILURE_SCHEMA)]
    for plan in plans:
        name = plan.column.name
        rows = wide.get_column(_NEEDS_MORE + name)
        if not rows.any():
            continue
        subset = frame.filter(rows).select(
            pl.col(SOURCE_FILE).alias("source_file"),
            pl.col(SOURCE_ROW).alias("source_row"),
            plan.cleaned.alias("text"),
        )
        subset = subset.with_columns(
            (plan.slow if plan.slow is not None else pl.lit(None)).alias("value")
        )
        if plan.slow is not None:
            parsed = subset.get_column("value").cast(TARGET_DTYPES[plan.column.kind])
            wide = wide.with_columns(wide.get_column(name).scatter(rows.arg_true(), parsed))
        hint = formats.get(name)
        failures.append(
            subset.filter(pl.col("value").is_null()).select(
                "source_file",
                "source_row",
                pl.lit(name).alias("column"),
                pl.lit(_reason(plan.column, hint)).alias("reason"),
            )
        )

    wide, bounded = _bound_dates(wide, columns)
    failures += bounded
    keep = [c.name for c in columns] + [SOURCE_FILE, SOURCE_ROW]
    if export == "notes":
        wide = wide.with_columns(_derive_minutes())
        keep.append(MINUTES_DERIVED)
    return Normalized(typed=wide.select(keep), failures=pl.concat(failures).cast(FAILURE_SCHEMA))


def _bound_dates(
    wide: pl.DataFrame, columns: tuple[Column, ...]
) -> tuple[pl.DataFrame, list[pl.DataFrame]]:
    """Dates and date-times outside DATE_MIN..DATE_MAX (parsed, or typed in the file) become
    null, each with a failure naming the column and the range (never the value)."""
    failures = []
    for column in columns:
        if column.kind not in ("date", "datetime"):
            continue
        value = pl.col(column.name)
        day = value.dt.date() if column.kind == "datetime" else value
        outside = (value.is_not_null() & ~day.is_between(DATE_MIN, DATE_MAX)).fill_null(False)
        rows = wide.select(outside).to_series()
        if not rows.any():
            continue
        failures.append(
            wide.filter(rows).select(
                pl.col(SOURCE_FILE).alias("source_file"),
                pl.col(SOURCE_ROW).alias("source_row"),
                pl.lit(column.name).alias("column"),
                pl.lit(date_range_reason(column.name)).alias("reason"),
            )
        )
        wide = wide.with_columns(pl.when(~outside).then(value).alias(column.name))
    return wide, failures


def _derive_minutes() -> list[pl.Expr]:
    """Blank minutes are end − start when both times are there and end is after start.

    Only a *blank* value is derived: an unparseable one stays a failure. End ≤ start is left
    for the TIME-INVALID audit rule, not quarantined here (the contract does not compare rows'
    times).
    """
    start, end = pl.col("start_time"), pl.col("end_time")
    blank = pl.col(_MINUTES_BLANK)
    derive = (blank & start.is_not_null() & end.is_not_null() & (end > start)).fill_null(False)
    return [
        pl.when(derive)
        .then((end - start).dt.total_minutes())
        .otherwise(pl.col("minutes"))
        .cast(pl.Int64)
        .alias("minutes"),
        derive.alias(MINUTES_DERIVED),
    ]
