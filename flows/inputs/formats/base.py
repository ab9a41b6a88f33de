"""What every reader takes and returns, so read_export handles all file types alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from flows.inputs.mapping import ExportMapping


@dataclass(frozen=True)
class FileRead:
    """One file's frame under its own headers, and the text encoding it was decoded with
    (None for formats that store typed values).

    `row_numbers`: each row's `_source_row` when the file is not a table of rows (X12: the
    segment position of the line's SV1), None = the data row number. `problems`: rows the reader
    already knows are broken (source_row, column, reason; quarantined with that reason), None =
    none."""

    frame: pl.DataFrame
    encoding: str | None = None
    row_numbers: pl.Series | None = None
    problems: pl.DataFrame | None = None

    def __iter__(self) -> Iterator[Any]:
        # unpacks as (frame, encoding), as every table reader's result always has
        return iter((self.frame, self.encoding))


class Reader(Protocol):
    """Read the file at `path`; `label` names it in the one-line InputError of a whole-file
    problem (never a cell value: they may be PHI)."""

    def __call__(self, label: str, path: Path, spec: ExportMapping) -> FileRead: ...
