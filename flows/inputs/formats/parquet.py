"""Parquet reader: values keep the types the file stores; binary columns become text.

`rows` and `read_rows` read a file a slice of rows at a time (row groups a slice does not touch
are skipped): the cut of a large input (flows/scale/cut.py) never holds a whole file."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.inputs.formats.base import FileRead
from flows.inputs.mapping import ExportMapping
from schemas.errors import InputError


def _text_for_binary(label: str, frame: pl.DataFrame) -> pl.DataFrame:
    # Binary columns become text here: bytes that are not UTF-8 cannot be read as any contract
    # value, and polars cannot turn them into text row by row, so the file is refused whole.
    for name, dtype in frame.schema.items():
        if dtype == pl.Binary:
            try:
                frame = frame.with_columns(pl.col(name).cast(pl.String))
            except pl.exceptions.PolarsError:
                raise InputError(
                    f"{label}: column '{name}' holds bytes that are not UTF-8 text"
                ) from None
    return frame


def read(label: str, path: Path, spec: ExportMapping) -> FileRead:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        raise InputError(f"{label} is not a readable Parquet file") from None
    return FileRead(_text_for_binary(label, frame))


def rows(label: str, path: Path) -> int:
    """The number of rows the file declares (its footer), without reading them."""
    try:
        return int(pl.scan_parquet(path).select(pl.len()).collect().item())
    except (OSError, pl.exceptions.PolarsError):
        raise InputError(f"{label} is not a readable Parquet file") from None


def read_rows(label: str, path: Path, offset: int, length: int) -> FileRead:
    """Rows offset .. offset + length - 1 (0-based) of the file, as `read` reads them."""
    try:
        frame = pl.scan_parquet(path).slice(offset, length).collect()
    except (OSError, pl.exceptions.PolarsError):
        raise InputError(f"{label} is not a readable Parquet file") from None
    return FileRead(_text_for_binary(label, frame))
