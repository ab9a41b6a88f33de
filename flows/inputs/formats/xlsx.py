"""XLSX reader: the one visible sheet with data unless the mapping names one; values keep the
cells' types. The workbook is checked against limits first (flows/inputs/formats/workbook.py)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import polars as pl

from flows.inputs.formats.base import FileRead
from flows.inputs.formats.workbook import inspect_workbook, sheet_to_read
from flows.inputs.mapping import ExportMapping
from schemas.errors import InputError


def read(label: str, path: Path, spec: ExportMapping) -> FileRead:
    sheets = inspect_workbook(label, path)
    sheet = spec.sheet
    if sheet and sheet not in {s.name for s in sheets}:
        raise InputError(f"{label} has no sheet named '{sheet}'")
    # several visible sheets with data, or data only on hidden ones: one line naming them
    which: dict[str, Any] = {"sheet_name": sheet or sheet_to_read(label, sheets)}
    return FileRead(_read(label, path, sheet, which))


def read_sheets(label: str, path: Path) -> dict[str, pl.DataFrame]:
    """Every sheet of the workbook by name, in workbook order, each read as `read` reads one
    (after the same limits: flows/inputs/formats/workbook.py)."""
    inspect_workbook(label, path)
    frames = _read(label, path, None, {"sheet_id": 0})
    return frames if isinstance(frames, dict) else {"": frames}


def _read(label: str, path: Path, sheet: str | None, which: dict[str, Any]) -> Any:
    # fastexcel logs a warning for every all-blank column (common: unused optional columns);
    # it would clutter the console that must carry only the run summary or one error line.
    dtype_log = logging.getLogger("fastexcel.types.dtype")
    level = dtype_log.level
    dtype_log.setLevel(logging.ERROR)
    try:
        # All rows are sampled for types so a late text cell in a number column is not coerced
        # to null; empty rows/columns are kept so row numbers and blank required columns hold.
        frame = pl.read_excel(
            path,
            engine="calamine",
            infer_schema_length=None,
            drop_empty_rows=False,
            drop_empty_cols=False,
            raise_if_empty=False,
            **which,
        )
    except ValueError as err:
        if sheet and "sheet" in str(err):
            raise InputError(f"{label} has no sheet named '{sheet}'") from None
        raise InputError(f"{label} is not a readable XLSX workbook") from None
    except Exception:  # fastexcel raises its own CalamineError family for corrupt workbooks
        raise InputError(f"{label} is not a readable XLSX workbook") from None
    finally:
        dtype_log.setLevel(level)
    return frame
