"""Parquet reader: values keep the types the file stores; binary columns become text."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.inputs.formats.base import FileRead
from flows.inputs.mapping import ExportMapping
from schemas.errors import InputError


def read(label: str, path: Path, spec: ExportMapping) -> FileRead:
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.PolarsError):
        raise InputError(f"{label} is not a readable Parquet file") from None
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
    return FileRead(frame)
