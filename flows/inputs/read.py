"""Read one export (a file, or a folder of files) and put its columns onto contract names.

Each file goes through the reader of its type (flows/inputs/formats: CSV as text so leading
zeros survive, Parquet and XLSX with the types the file stores), then through the mapping
(flows/inputs/mapping.py). A folder is read as all its input files sorted by name (not
recursive; which files are inputs and which are ignored is decided in flows/inputs/formats).

Row identity, used by every problem report:
- `_source_file`: the file's name relative to the parent of the path given on the command line,
  in POSIX form. A file path gives its bare name (`claims.csv`); a folder gives
  `<folder name>/<file name>` (`claims/2026-01.csv`). No absolute paths: the quarantine is
  shared and the user's directory layout is none of its business.
- `_source_row`: 1-based data row within that file (header excluded). Completely blank rows
  (blank lines, rows of empty cells) keep their number but are skipped, and counted.
- Rows a mapping's row filter drops (flows/inputs/transform.py) keep their numbers too and are
  counted per file (`filtered_rows`): rows read = accepted + quarantined + filtered.

Whole-file problems raise InputError with a one-line message that names the file and column
but never quotes cell values (they may be PHI).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.inputs.formats import (
    input_files,
    is_input_type,
    is_x12,
    listed,
    one_format,
    reader_for,
)
from flows.inputs.formats.base import FileRead
from flows.inputs.mapping import ExportMapping, SourceMapping, match_headers
from flows.inputs.rows import blank_rows, constant, row_numbers
from flows.inputs.transform import Sources, find_sources, keep_mask, mapped_column
from schemas.contract import COLUMNS, SOURCE_FILE, SOURCE_ROW
from schemas.errors import InputError
from schemas.text import as_text


@dataclass(frozen=True)
class SourceFile:
    """One file as read. `original` keeps the file's own headers and values (for the
    quarantine's original_values) plus `_source_row`; blank rows are already dropped."""

    name: str
    path: Path
    format: str
    encoding: str | None
    original: pl.DataFrame
    header_map: dict[str, str]
    blank_rows: int
    # rows the mapping's row filter dropped (not blank, not in `original`)
    filtered_rows: int = 0
    sources: Sources = field(default_factory=lambda: Sources({}, ()))
    # rows the reader found broken (FileRead.problems), quarantined with its reasons
    problems: pl.DataFrame | None = None


@dataclass(frozen=True)
class RawExport:
    """`frame`: contract columns (text or the file's types) + `_source_file`, `_source_row`."""

    export: str
    path: Path
    frame: pl.DataFrame
    files: tuple[SourceFile, ...]
    formats: dict[str, str]
    # True once validation has let go of the rows (released): validating it again is an error
    is_released: bool = False

    def released(self) -> RawExport:
        """The same export without its rows (the files' names, formats and counts stay): what
        validation keeps once an export is checked and its quarantine built, so the rows read
        (the notes' text among them) are freed while the other exports are still checked."""
        files = tuple(dataclasses.replace(f, original=f.original.clear()) for f in self.files)
        return dataclasses.replace(self, frame=self.frame.clear(), files=files, is_released=True)

    def reader_problems(self) -> pl.DataFrame | None:
        """The problems the readers found (source_file, source_row, column, reason), if any."""
        parts = [
            s.problems.select(
                pl.lit(s.name, pl.String).alias("source_file"), "source_row", "column", "reason"
            )
            for s in self.files
            if s.problems is not None and s.problems.height
        ]
        return pl.concat(parts) if parts else None


# How each reader renames the second of two identical headers (polars CSV, fastexcel XLSX;
# Parquet refuses such a file outright).
_DUPLICATE_SUFFIX = {".csv": "_duplicated_0", ".xlsx": "_1"}


def _refuse_duplicate_headers(label: str, path: Path, headers: list[str], read: list[str]) -> None:
    """Two columns under one header the audit reads: which one holds the data is unknowable."""
    suffix = _DUPLICATE_SUFFIX.get(path.suffix.lower())
    for header in read:
        if suffix and header + suffix in headers:
            raise InputError(f"{label} has more than one column named '{header}'")


def read_source(
    export: str,
    path: Path,
    name: str,
    spec: ExportMapping,
    found: FileRead | None = None,
    first_row: int = 1,
) -> SourceFile:
    """One file read and mapped (None `found`: read whole by its format's reader). The cut of a
    large file (flows/scale/cut.py) passes each slice it read as `found`, numbered from
    `first_row`, the slice's first row in the file."""
    label = f"{export} file '{path}'"
    whole = found is None  # a slice without data rows is no verdict on its file: the cut's
    if found is None:
        found = reader_for(path)(label, path, spec)
    df, encoding, numbers, problems = found.frame, found.encoding, found.row_numbers, found.problems
    if {SOURCE_FILE, SOURCE_ROW} & set(df.columns):
        raise InputError(f"{label} has a column named {SOURCE_FILE} or {SOURCE_ROW} (reserved)")
    if numbers is not None:
        # the reader numbers its own rows (X12: segment positions) and has no blank rows
        numbered = numbers.alias(SOURCE_ROW).to_frame().hstack(df)
        original = numbered
    elif df.width:
        numbered = row_numbers(df, SOURCE_ROW, first_row).to_frame().hstack(df)
        blank = blank_rows(df)
        original = numbered if blank is None else numbered.filter(~blank)
    else:
        numbered = row_numbers(df, SOURCE_ROW, first_row).to_frame().hstack(df)
        original = numbered.clear()
    if original.height == 0 and whole:
        raise InputError(f"{label} has no data rows")
    header_map = match_headers(export, label, df.columns, spec)
    sources = find_sources(label, df.columns, spec)
    joined = [h for headers in sources.join.values() for h in headers]
    filters = [h for _, h in sources.filters]
    _refuse_duplicate_headers(label, path, df.columns, [*header_map.values(), *joined, *filters])
    kept = keep_mask(original, sources)
    filtered = 0
    if kept is not None:
        filtered = original.height - int(kept.sum())
        original = original.filter(kept) if filtered else original
    if problems is not None and filtered:
        # a broken row the filter drops is filtered, not quarantined
        problems = problems.filter(pl.col("source_row").is_in(original[SOURCE_ROW].implode()))
    return SourceFile(
        name=name,
        path=path,
        format="x12" if numbers is not None else path.suffix.lower().lstrip("."),
        encoding=encoding,
        original=original,
        header_map=header_map,
        blank_rows=numbered.height - original.height - filtered,
        filtered_rows=filtered,
        sources=sources,
        problems=problems,
    )


def contract_frame(export: str, source: SourceFile, spec: ExportMapping) -> pl.DataFrame:
    frame = source.original
    columns = []
    for c in COLUMNS[export]:
        series = mapped_column(frame, c.name, source.header_map.get(c.name), spec, source.sources)
        columns.append(constant(frame, c.name, None, pl.String()) if series is None else series)
    columns.append(constant(frame, SOURCE_FILE, source.name, pl.String()))
    return pl.DataFrame([*columns, frame.get_column(SOURCE_ROW)])


def concat_frames(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """Stack per-file frames; a column whose type differs between files becomes text (and is
    parsed by normalize like CSV text), so no file's values are coerced away."""
    if len(frames) == 1:
        return frames[0]
    casts: dict[str, pl.DataType] = {}
    for column in frames[0].columns:
        dtypes = {f.schema[column] for f in frames} - {pl.Null()}
        casts[column] = dtypes.pop() if len(dtypes) == 1 else pl.String()
    aligned = [
        f.with_columns(
            (as_text(pl.col(c), f.schema[c]) if t == pl.String else pl.col(c).cast(t)).alias(c)
            for c, t in casts.items()
            if f.schema[c] != t
        )
        for f in frames
    ]
    return pl.concat(aligned, how="vertical")


def list_files(export: str, root: Path) -> list[Path]:
    if not root.exists():
        raise InputError(f"{export} path '{root}' does not exist")
    if root.is_dir():
        files = input_files(root)
        if not files:
            raise InputError(f"{export} folder '{root}' has no {listed()} files")
        return one_format(export, root, files)
    if not is_input_type(root):
        raise InputError(
            f"{export} file '{root}' has an unsupported extension '{root.suffix}' "
            f"(expected {listed()})"
        )
    return [root]


def export_spec(export: str, files: list[Path], mapping: SourceMapping | None) -> ExportMapping:
    """The mapping's part for the export's files."""
    spec = (mapping or SourceMapping()).for_export(export)
    if is_x12(files[0]):
        # X12 rows come under the contract's names, text in the guides' formats: of a mapping
        # only what applies to such rows is kept (constants, value maps, row filters)
        return ExportMapping(constants=spec.constants, values=spec.values, filters=spec.filters)
    return spec


def read_export(
    export: str, path: str | os.PathLike[str], mapping: SourceMapping | None = None
) -> RawExport:
    """Read `path` (a file or a folder of files) as `export`; see the module doc for naming."""
    if export not in COLUMNS:
        raise ValueError(f"unknown export {export!r}; expected one of {sorted(COLUMNS)}")
    root = Path(path)
    files = list_files(export, root)
    spec = export_spec(export, files, mapping)
    # abspath (not resolve): "." still gets its folder name, symlinks are not followed.
    folder = Path(os.path.abspath(root)).name if root.is_dir() else None
    sources = tuple(
        read_source(export, f, f"{folder}/{f.name}" if folder else f.name, spec) for f in files
    )
    frame = concat_frames([contract_frame(export, s, spec) for s in sources])
    return RawExport(
        export=export, path=root, frame=frame, files=sources, formats=dict(spec.formats)
    )
