"""Row bookkeeping for ingest (flows/inputs/read.py), done without copying the file's columns.

Blank rows (every cell null, empty or whitespace) are skipped and counted. They are rare, so the
test is arranged to settle "none" cheaply instead of testing every cell of every row, and a
frame without blank rows is not copied to drop none.

Columns ingest adds (`_source_row`, `_source_file`, absent optional columns) are built in the
same chunks as the file's columns. A Parquet file is read as one chunk per row group; a column
made in one piece beside them makes the frame's chunks disagree, and polars then copies the
whole frame into single chunks at its next eager operation (README, Performance).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from schemas.text import text_is_blank


def is_blank(name: str, dtype: pl.DataType) -> pl.Expr:
    """The cell is blank: null, or (text) nothing but whitespace."""
    return text_is_blank(pl.col(name)) if dtype == pl.String else pl.col(name).is_null()


def _first_column(df: pl.DataFrame) -> str:
    # A typed column's blanks are its nulls, whose count polars keeps: often that is zero and
    # settles the question without a pass over the data. Text columns need the strip.
    typed = [name for name, dtype in df.schema.items() if dtype != pl.String]
    return min(typed or df.columns, key=lambda name: df.get_column(name).null_count())


def blank_rows(df: pl.DataFrame) -> pl.Series | None:
    """Boolean mask of the blank rows of `df` (at least one column), None when there are none.

    A blank row is blank in every column, so it is blank in the first column tested; only the
    rows blank there (usually none) are tested in full.
    """
    first = _first_column(df)
    dtype = df.schema[first]
    if dtype != pl.String and df.get_column(first).null_count() == 0:
        return None
    candidates = df.select(is_blank(first, dtype)).to_series().arg_true()
    if candidates.is_empty():
        return None
    every = pl.all_horizontal([is_blank(name, dtype) for name, dtype in df.schema.items()])
    blank = df[candidates].select(every).to_series()
    if not blank.any():
        return None
    mask = pl.repeat(False, df.height, dtype=pl.Boolean, eager=True)
    return mask.scatter(candidates.filter(blank), True)


def _chunk_lengths(df: pl.DataFrame) -> list[int]:
    if df.width == 0 or df.height == 0:
        return [df.height]
    return df.get_column(df.columns[0]).chunk_lengths()


def row_numbers(df: pl.DataFrame, name: str, start: int = 1) -> pl.Series:
    """`start`, `start` + 1, ... (Int64), one per row of `df`, in `df`'s chunks."""
    pieces = []
    for length in _chunk_lengths(df):
        pieces.append(pl.int_range(start, start + length, dtype=pl.Int64, eager=True))
        start += length
    return pl.concat(pieces, rechunk=False).alias(name)


def constant(df: pl.DataFrame, name: str, value: Any, dtype: pl.DataType) -> pl.Series:
    """`value` (of `dtype`) on every row of `df`, in `df`'s chunks."""
    pieces = [pl.repeat(value, n, dtype=dtype, eager=True) for n in _chunk_lengths(df)]
    return pl.concat(pieces, rechunk=False).alias(name)
