"""What a mapping does to a file beyond renaming: row filters, constants, joined columns and value
maps (flows/inputs/mapping.py loads them; flows/inputs/read.py calls these per file).

Everything is polars expressions over the file as read, so a ten-million-row export is not
walked row by row. Comparisons and value-map keys are on trimmed, case-folded text: billing
systems write "CHARGE", "Charge" and " charge" for one thing.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from flows.inputs.mapping import ExportMapping, RowFilter, find_header
from flows.inputs.rows import constant
from schemas.text import as_text, blank_to_null

# The contract's modifier separator (schemas.contract.MODIFIERS_PATTERN); other joined text
# columns are joined with a space.
MODIFIER_SEPARATOR = ":"


@dataclass(frozen=True)
class Sources:
    """The file's headers the mapping's joins and filters read, found once per file."""

    join: dict[str, tuple[str, ...]]
    filters: tuple[tuple[RowFilter, str], ...]


def find_sources(label: str, headers: list[str], spec: ExportMapping) -> Sources:
    """Headers of every joined column and filter; InputError naming the missing one."""
    join = {
        column: tuple(find_header(label, headers, h, f"joined into {column}") for h in names)
        for column, names in spec.join.items()
    }
    filters = tuple(
        (f, find_header(label, headers, f.column, "a row filter of the mapping"))
        for f in spec.filters
    )
    return Sources(join, filters)


def _folded(frame: pl.DataFrame, header: str) -> pl.Expr:
    return as_text(pl.col(header), frame.schema[header]).str.strip_chars().str.to_lowercase()


def keep_mask(frame: pl.DataFrame, sources: Sources) -> pl.Series | None:
    """True for the rows every filter keeps (a blank cell equals nothing); None: no filter."""
    if not sources.filters:
        return None
    conditions = []
    for f, header in sources.filters:
        text = _folded(frame, header)
        hit = text.is_in(list(f.values)) if f.op in ("in", "==") else ~text.is_in(list(f.values))
        # a blank cell is equal to no value: kept by != and not in, dropped by == and in
        conditions.append(hit.fill_null(f.op in ("!=", "not in")))
    return frame.select(pl.all_horizontal(conditions)).to_series()


def _joined(frame: pl.DataFrame, column: str, headers: tuple[str, ...]) -> pl.Series:
    parts = [blank_to_null(as_text(pl.col(h), frame.schema[h])) for h in headers]
    separator = MODIFIER_SEPARATOR if column == "modifiers" else " "
    # blanks are skipped (modifier 2 without modifier 1 still gives one modifier)
    joined = pl.concat_str(parts, separator=separator, ignore_nulls=True)
    return frame.select(blank_to_null(joined).alias(column)).to_series()


def _mapped(series: pl.Series, table: dict[str, str]) -> pl.Series:
    # unmapped values stay as they are: the contract then accepts or quarantines them by name
    text = as_text(pl.col(series.name), series.dtype)
    key = text.str.strip_chars().str.to_lowercase()
    mapped = key.replace_strict(list(table), list(table.values()), default=None)
    return series.to_frame().select(pl.coalesce(mapped, text).alias(series.name)).to_series()


def mapped_column(
    frame: pl.DataFrame, column: str, header: str | None, spec: ExportMapping, sources: Sources
) -> pl.Series | None:
    """The contract column `column` of `frame` as the mapping sets it (a constant, a join or
    the file's `header`, then its value map); None when the file lacks it and nothing sets it."""
    if column in spec.constants:
        series = constant(frame, column, spec.constants[column], pl.String())
    elif column in sources.join:
        series = _joined(frame, column, sources.join[column])
    elif header is not None:
        series = frame.get_column(header).alias(column)
    else:
        return None
    table = spec.values.get(column)
    return series if table is None else _mapped(series, table)
