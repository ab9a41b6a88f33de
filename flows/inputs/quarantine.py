"""The quarantine: every row the contract rejected, why, and what the row said in the file.

`quarantine.csv` and `quarantine.parquet` hold the same rows, one per (row, problem):
export, source_file, source_row, column, reason, original_values. `original_values` is a JSON
object of the row exactly as read: the file's own header names and pre-parse values (Parquet
and XLSX values rendered as text), so the officer can fix the row in their billing system
without re-running anything. Both files are written even when empty (header only), so a clean
run is visibly clean rather than missing output.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from flows.inputs.read import RawExport
from flows.outputs.atomic import replacing
from flows.outputs.files import QUARANTINE_CSV, QUARANTINE_PARQUET
from flows.outputs.safe_csv import write_csv
from schemas.contract import ALL_EXPORTS, SOURCE_ROW
from schemas.text import as_text
from schemas.validate import PROBLEM_SCHEMA, ValidationResult

QUARANTINE_SCHEMA = pl.Schema({**PROBLEM_SCHEMA, "original_values": pl.String()})

_ROW_KEYS = ["source_file", "source_row"]
# Under --redact a cell that broke the contract is not shown: what fails to parse as a time or a
# date may be a patient id or note text typed into the wrong column.
HIDDEN = "(redacted: broke the contract)"
_BROKEN = "__broken_columns"


def _as_json_value(name: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String or dtype.is_nested():
        return pl.col(name)
    # the same text form ingest parsed (a Duration cannot be cast to text directly)
    return as_text(pl.col(name), dtype)


def original_values(
    raw: RawExport, rows: pl.DataFrame, hide: pl.DataFrame | None = None
) -> pl.DataFrame:
    """For the (source_file, source_row) pairs in `rows`: the row as read, as a JSON object.
    `hide` (source_file, source_row, column): contract columns whose cell is replaced by
    HIDDEN in that row."""
    parts = []
    for source in raw.files:
        wanted = rows.filter(pl.col("source_file") == source.name).select(
            pl.col("source_row").alias(SOURCE_ROW)
        )
        if wanted.height == 0:
            continue
        broken = _broken(source.name, hide)
        header_of = {h: c for c, h in source.header_map.items()}
        values = [
            _shown(name, dtype, header_of.get(name), broken is not None)
            for name, dtype in source.original.schema.items()
            if name != SOURCE_ROW
        ]
        picked = source.original.join(wanted.unique(), on=SOURCE_ROW, how="semi")
        if broken is not None:
            picked = picked.join(broken, on=SOURCE_ROW, how="left")
        parts.append(
            picked.select(
                pl.lit(source.name, pl.String).alias("source_file"),
                pl.col(SOURCE_ROW).alias("source_row"),
                pl.struct(values).struct.json_encode().alias("original_values"),
            )
        )
    if not parts:
        return pl.DataFrame(
            schema={"source_file": pl.String, "source_row": pl.Int64, "original_values": pl.String}
        )
    return pl.concat(parts)


def _broken(name: str, hide: pl.DataFrame | None) -> pl.DataFrame | None:
    if hide is None:
        return None
    return (
        hide.filter(pl.col("source_file") == name)
        .group_by(pl.col("source_row").alias(SOURCE_ROW))
        .agg(pl.col("column").alias(_BROKEN))
    )


def _shown(name: str, dtype: pl.DataType, column: str | None, hiding: bool) -> pl.Expr:
    value = _as_json_value(name, dtype)
    if not hiding or column is None:
        return value
    broken = pl.col(_BROKEN).list.contains(pl.lit(column)).fill_null(False)
    return pl.when(broken).then(pl.lit(HIDDEN)).otherwise(value.cast(pl.String)).alias(name)


def export_quarantine(
    raw: RawExport, result: ValidationResult, hide_broken: bool = False
) -> pl.DataFrame | None:
    """One export's problems with the original values attached (None: no problem).
    `hide_broken` (--redact): the cells that broke the contract are HIDDEN."""
    problems = result.problems
    if problems.height == 0:
        return None
    hide = problems.select(*_ROW_KEYS, "column") if hide_broken else None
    originals = original_values(raw, problems.select(_ROW_KEYS).unique(), hide)
    return (
        problems.join(originals, on=_ROW_KEYS, how="left", maintain_order="left")
        .select(QUARANTINE_SCHEMA.keys())
        .cast(QUARANTINE_SCHEMA)
    )


def stack_quarantine(parts: Mapping[str, pl.DataFrame | None]) -> pl.DataFrame:
    """The exports' quarantine parts (export_quarantine) as one frame, in ALL_EXPORTS order."""
    frames = [pl.DataFrame(schema=QUARANTINE_SCHEMA)]
    frames += [p for e in ALL_EXPORTS if (p := parts.get(e)) is not None]
    return pl.concat(frames)


def write_quarantine(quarantine: pl.DataFrame, out_dir: Path) -> tuple[Path, Path]:
    """Write quarantine.csv (formula-safe) and quarantine.parquet in `out_dir`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, parquet_path = out_dir / QUARANTINE_CSV, out_dir / QUARANTINE_PARQUET
    with replacing(csv_path) as partial:
        write_csv(quarantine, partial)
    with replacing(parquet_path) as partial:
        quarantine.write_parquet(partial)
    return csv_path, parquet_path
