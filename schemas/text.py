"""Text cells: blanks, the text form of typed cells, and the clean-up of contract text columns.

Used by schemas/normalize.py (and, for blanks and text forms, by ingest, the quarantine and the
dispositions). Pure polars.
"""

from __future__ import annotations

import polars as pl

from schemas.contract import ROLES
from schemas.distinct import ElementWise, code_values, replace_changed

LOWER = frozenset({"payer_type", "note_type"})
UPPER = frozenset({"procedure_code", "modifiers", "discipline"})
# Roles keep their own spellings ("PTA", "psychologist"): any case in, the contract's out.
CANONICAL = {"role": {r.casefold(): r for r in ROLES}}
# Case-folded code columns: few distinct values, and per-row work (case mapping, a regex).
CODES = LOWER | UPPER | frozenset(CANONICAL)


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Strip surrounding whitespace; an empty result is null (a blank cell is a missing value)."""
    stripped = expr.str.strip_chars()
    return pl.when(stripped.str.len_bytes() > 0).then(stripped)


def text_is_blank(text: pl.Expr) -> pl.Expr:
    """`blank_to_null(text).is_null()`, without building the stripped column."""
    return text.is_null() | (text.str.strip_chars().str.len_bytes() == 0)


def as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Text form of a possibly typed column.

    Whole floats lose their ".0": Excel stores every number as a float, and an NPI or ID read
    back as "1234567893.0" would otherwise fail checks that the spreadsheet user cannot see.
    """
    if dtype == pl.String:
        return expr
    if isinstance(dtype, pl.Duration):
        return expr.dt.to_string("iso")
    if dtype.is_nested() or dtype == pl.Object:
        # Not a value a billing export can mean; shown as its type so the row is quarantined.
        return pl.when(expr.is_not_null()).then(pl.lit(f"<{dtype}>"))
    if dtype.is_float():
        whole = expr.is_finite() & (expr == expr.floor())
        as_int = expr.cast(pl.Int64, strict=False).cast(pl.String)
        return pl.when(whole & as_int.is_not_null()).then(as_int).otherwise(expr.cast(pl.String))
    return expr.cast(pl.String)


def is_blank(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """`blank_to_null(as_text(expr, dtype)).is_null()`: the cell is missing."""
    # A number, date or time never prints as blank text, so the costly text form need not be built.
    if dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean:
        return expr.is_null()
    return text_is_blank(as_text(expr, dtype))


def _normalise_text(name: str, text: pl.Expr) -> pl.Expr:
    if name in LOWER:
        text = text.str.to_lowercase()
    if name in UPPER:
        text = text.str.to_uppercase()
    if name in CANONICAL:
        # an unknown value stays as it was, for the contract to quarantine
        folded = text.str.to_lowercase()
        text = folded.replace_strict(CANONICAL[name], default=text, return_dtype=pl.String)
    if name == "modifiers":
        # "GP 59", "GP,59" and "GP::59" all mean GP:59 (contract MODIFIERS_PATTERN uses ':').
        text = blank_to_null(text.str.replace_all(r"[\s:,]+", ":").str.strip_chars(":"))
    return text


def text_clean(name: str) -> ElementWise:
    """The clean-up of contract text column `name`, for text input: blank to null, then case
    folding (codes) and ':'-joined modifiers."""
    return lambda text: _normalise_text(name, blank_to_null(text))


def needs_strip(text: pl.Expr) -> pl.Expr:
    """The value is empty or has surrounding whitespace: `blank_to_null` would change it."""
    # Stripping only removes, so an unchanged length means an unchanged value.
    length = text.str.len_bytes()
    return (length == 0) | (text.str.strip_chars().str.len_bytes() != length)


def clean_text_columns(frame: pl.DataFrame, names: list[str]) -> dict[str, pl.Series | pl.Expr]:
    """`text_clean(name)` of each named column of `frame` (any dtype: `as_text` first), as a
    Series or an expression on `frame`, skipping the work where it would change nothing.

    A clean export changes no value, so the regexes and case folding are mostly wasted work: cased
    code columns are cleaned once per distinct value; other text columns are left as they are (no
    copy) when no value is empty or has surrounding whitespace.
    """
    out: dict[str, pl.Series | pl.Expr] = {}
    plain: list[str] = []
    for name in names:
        series = frame.get_column(name)
        clean = text_clean(name)
        if series.dtype != pl.String:
            out[name] = clean(as_text(pl.col(name), series.dtype))
        elif name not in CODES:
            plain.append(name)
        elif (distinct := code_values(series)) is not None:
            out[name] = replace_changed(series, clean, distinct).alias(name)
        else:
            out[name] = clean(pl.col(name))
    if plain:
        dirty = frame.select(needs_strip(pl.col(n)).any() for n in plain).row(0)
        for name, needs in zip(plain, dirty, strict=True):
            out[name] = text_clean(name)(pl.col(name)) if needs else pl.col(name)
    return out
