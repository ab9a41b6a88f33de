"""Read one export (a file, or a folder of files) and put its columns onto contract names.

Formats: CSV (UTF-8, UTF-8 with BOM or Windows-1252; every column read as text so leading
zeros survive), Parquet and XLSX (first sheet unless the mapping names one; values keep the
types the file stores). A folder is read as all its `*.csv`, `*.parquet`, `*.xlsx` files sorted
by name (not recursive; Office lock files `~$*` and hidden files are skipped).

Row identity, used by every problem report:
- `_source_file`: the file's name relative to the parent of the path given on the command line,
  in POSIX form. A file path gives its bare name (`claims.csv`); a folder gives
  `<folder name>/<file name>` (`claims/2026-01.csv`). No absolute paths: the quarantine is
  shared and the user's directory layout is none of its business.
- `_source_row`: 1-based data row within that file (header excluded). Completely blank rows
  (blank lines, rows of empty cells) keep their number but are skipped, and counted.

Whole-file problems raise InputError with a one-line message that names the file and column
but never quotes cell values (they may be PHI).
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from flows.inputs.rows import blank_rows, constant, row_numbers
from schemas.contract import COLUMNS, EXPORTS, SOURCE_FILE, SOURCE_ROW
from schemas.errors import InputError, MappingError
from schemas.text import as_text

SUFFIXES = (".csv", ".parquet", ".xlsx")


@dataclass(frozen=True)
class CsvOptions:
    delimiter: str = ","
    # "auto": BOM → UTF-8; valid UTF-8 → UTF-8; otherwise Windows-1252 (legacy EHR exports).
    encoding: str = "auto"


@dataclass(frozen=True)
class ExportMapping:
    """One export's part of a mapping file: contract column → the billing system's header."""

    columns: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    csv: CsvOptions = field(default_factory=CsvOptions)
    sheet: str | None = None


@dataclass(frozen=True)
class SourceMapping:
    name: str | None = None
    path: Path | None = None
    exports: dict[str, ExportMapping] = field(default_factory=dict)

    def for_export(self, export: str) -> ExportMapping:
        return self.exports.get(export, ExportMapping())


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


@dataclass(frozen=True)
class RawExport:
    """`frame`: contract columns (text or the file's types) + `_source_file`, `_source_row`."""

    export: str
    path: Path
    frame: pl.DataFrame
    files: tuple[SourceFile, ...]
    formats: dict[str, str]


# ---------------------------------------------------------------------------- mapping file
_TOP_KEYS = frozenset({"name", "description", *EXPORTS})
_EXPORT_KEYS = frozenset({"columns", "formats", "csv", "sheet"})
_CSV_KEYS = frozenset({"delimiter", "encoding"})


def _table(value: Any, where: str, allowed: frozenset[str] | None, path: Path) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MappingError(f"mapping file '{path}': '{where}' must be a table")
    for key in value:
        if allowed is not None and key not in allowed:
            full = f"{where}.{key}" if where else key
            listed = ", ".join(sorted(allowed))
            raise MappingError(f"mapping file '{path}': unknown key '{full}' (allowed: {listed})")
    return value


def _text(value: Any, where: str, path: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"mapping file '{path}': '{where}' must be a non-empty string")
    return value


def _format_hint(export: str, column: str, fmt: str, path: Path) -> str:
    kinds = {c.name: c.kind for c in COLUMNS[export]}
    where = f"{export}.formats.{column}"
    if kinds[column] not in ("date", "time", "datetime"):
        raise MappingError(
            f"mapping file '{path}': '{where}' is not a date, time or date-time column"
        )
    dtype = pl.Time() if kinds[column] == "time" else pl.Datetime("us")
    try:
        if "%" not in fmt:
            raise ValueError(fmt)
        pl.Series([""], dtype=pl.String).str.strptime(dtype, fmt, strict=False)
    except (ValueError, pl.exceptions.PolarsError):
        raise MappingError(
            f"mapping file '{path}': '{where}' is not a strptime format (e.g. %m/%d/%Y)"
        ) from None
    return fmt


def _export_mapping(export: str, value: Any, path: Path) -> ExportMapping:
    table = _table(value, export, _EXPORT_KEYS, path)
    names = frozenset(c.name for c in COLUMNS[export])
    columns = _table(table.get("columns", {}), f"{export}.columns", names, path)
    formats = _table(table.get("formats", {}), f"{export}.formats", names, path)
    csv = _table(table.get("csv", {}), f"{export}.csv", _CSV_KEYS, path)
    delimiter = _text(csv.get("delimiter", ","), f"{export}.csv.delimiter", path)
    encoding = _text(csv.get("encoding", "auto"), f"{export}.csv.encoding", path)
    if len(delimiter) != 1:
        raise MappingError(f"mapping file '{path}': '{export}.csv.delimiter' must be 1 character")
    if encoding != "auto":
        try:
            encoding = codecs.lookup(encoding).name
        except LookupError:
            raise MappingError(
                f"mapping file '{path}': '{export}.csv.encoding' is not a known encoding"
            ) from None
    sheet = table.get("sheet")
    return ExportMapping(
        columns={k: _text(v, f"{export}.columns.{k}", path) for k, v in columns.items()},
        formats={
            k: _format_hint(export, k, _text(v, f"{export}.formats.{k}", path), path)
            for k, v in formats.items()
        },
        csv=CsvOptions(delimiter=delimiter, encoding=encoding),
        sheet=None if sheet is None else _text(sheet, f"{export}.sheet", path),
    )


def load_mapping(path: str | os.PathLike[str]) -> SourceMapping:
    """Load a TOML mapping file (see data/mappings/example-ehr.toml). Errors: MappingError."""
    path = Path(path)
    if not path.is_file():
        raise MappingError(f"mapping file '{path}' does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        raise MappingError(f"mapping file '{path}' cannot be read as UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise MappingError(f"mapping file '{path}' is not valid TOML: {err}") from None
    _table(data, "", _TOP_KEYS, path)
    name = data.get("name")
    return SourceMapping(
        name=None if name is None else _text(name, "name", path),
        path=path,
        exports={e: _export_mapping(e, data[e], path) for e in EXPORTS if e in data},
    )


# ---------------------------------------------------------------------------- reading files
def detect_encoding(path: Path) -> str:
    """'utf-8-sig' (BOM), 'utf-8' (decodes cleanly) or 'cp1252'. Streams: files can be GBs."""
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 24):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _csv_problem(err: Exception) -> str:
    # Polars messages can quote the offending field (PHI), so only known causes are named.
    text = str(err)
    if "invalid utf-8" in text:
        return "it is not valid UTF-8 (set csv.encoding in the mapping)"
    if "more fields" in text:
        return "a row has more fields than the header (check csv.delimiter and quoting)"
    return "check the delimiter, quoting and encoding"


def _read_csv(label: str, path: Path, options: CsvOptions) -> tuple[pl.DataFrame, str]:
    encoding = detect_encoding(path) if options.encoding == "auto" else options.encoding
    read = {"infer_schema": False, "separator": options.delimiter, "raise_if_empty": True}
    try:
        if encoding in ("utf-8", "utf-8-sig", "utf_8"):
            df = pl.read_csv(path, **read)
        else:
            text = path.read_bytes().decode(encoding)
            df = pl.read_csv(io.BytesIO(text.encode("utf-8")), **read)
    except pl.exceptions.NoDataError:
        raise InputError(f"{label} is empty") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{label} is neither UTF-8 nor {encoding} text (set csv.encoding in the mapping)"
        ) from None
    except pl.exceptions.PolarsError as err:
        raise InputError(f"{label} could not be read as CSV: {_csv_problem(err)}") from None
    if df.width and df.columns[0].startswith("\ufeff"):
        df = df.rename({df.columns[0]: df.columns[0].lstrip("\ufeff")})
    return df, encoding.replace("_", "-")


def _read_parquet(label: str, path: Path) -> pl.DataFrame:
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
    return frame


def _read_xlsx(label: str, path: Path, sheet: str | None) -> pl.DataFrame:
    which: dict[str, Any] = {"sheet_name": sheet} if sheet else {"sheet_id": 1}
    # fastexcel logs a warning for every all-blank column (common: unused optional columns);
    # it would clutter the console that must carry only the run summary or one error line.
    dtype_log = logging.getLogger("fastexcel.types.dtype")
    level = dtype_log.level
    dtype_log.setLevel(logging.ERROR)
    try:
        # All rows are sampled for types so a late text cell in a number column is not coerced
        # to null; empty rows/columns are kept so row numbers and blank required columns hold.
        return pl.read_excel(
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


def _header_key(header: str) -> str:
    return header.replace("\ufeff", "").strip().casefold()


def _match_headers(export: str, label: str, headers: list[str], spec: ExportMapping) -> dict:
    """contract column → the file's header; case-insensitive and whitespace-trimmed."""
    by_key: dict[str, list[str]] = {}
    for header in headers:
        by_key.setdefault(_header_key(header), []).append(header)
    found: dict[str, str] = {}
    missing: list[str] = []
    for column in COLUMNS[export]:
        expected = spec.columns.get(column.name, column.name)
        matches = by_key.get(_header_key(expected), [])
        if len(matches) > 1:
            raise InputError(f"{label} has more than one column named '{expected}'")
        if matches:
            found[column.name] = matches[0]
        elif column.required:
            mapped = f" (mapped from '{expected}')" if column.name in spec.columns else ""
            missing.append(f"'{column.name}'{mapped}")
    if missing:
        # All of them at once: fixing an export one re-run per column would be tedious.
        plural = "s" if len(missing) > 1 else ""
        raise InputError(f"{label} is missing the required column{plural} {', '.join(missing)}")
    return found


def _read_source(export: str, path: Path, name: str, spec: ExportMapping) -> SourceFile:
    label = f"{export} file '{path}'"
    suffix = path.suffix.lower()
    encoding: str | None = None
    if suffix == ".csv":
        df, encoding = _read_csv(label, path, spec.csv)
    elif suffix == ".parquet":
        df = _read_parquet(label, path)
    else:
        df = _read_xlsx(label, path, spec.sheet)
    if {SOURCE_FILE, SOURCE_ROW} & set(df.columns):
        raise InputError(f"{label} has a column named {SOURCE_FILE} or {SOURCE_ROW} (reserved)")
    numbered = row_numbers(df, SOURCE_ROW).to_frame().hstack(df)
    if df.width:
        blank = blank_rows(df)
        original = numbered if blank is None else numbered.filter(~blank)
    else:
        original = numbered.clear()
    if original.height == 0:
        raise InputError(f"{label} has no data rows")
    header_map = _match_headers(export, label, df.columns, spec)
    return SourceFile(
        name=name,
        path=path,
        format=suffix.lstrip("."),
        encoding=encoding,
        original=original,
        header_map=header_map,
        blank_rows=numbered.height - original.height,
    )


def _contract_frame(export: str, source: SourceFile) -> pl.DataFrame:
    frame = source.original
    return pl.DataFrame(
        [
            frame.get_column(source.header_map[c.name]).alias(c.name)
            if c.name in source.header_map
            else constant(frame, c.name, None, pl.String())
            for c in COLUMNS[export]
        ]
        + [constant(frame, SOURCE_FILE, source.name, pl.String()), frame.get_column(SOURCE_ROW)]
    )


def _concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
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


def _list_files(export: str, root: Path) -> list[Path]:
    if not root.exists():
        raise InputError(f"{export} path '{root}' does not exist")
    if root.is_dir():
        # "~$name.xlsx" is Excel's lock file for an open workbook, not data.
        usable = [p for p in root.iterdir() if not p.name.startswith(("~$", "."))]
        files = sorted(
            (p for p in usable if p.is_file() and p.suffix.lower() in SUFFIXES),
            key=lambda p: p.name,
        )
        if not files:
            raise InputError(f"{export} folder '{root}' has no .csv, .parquet or .xlsx files")
        return files
    if root.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"{export} file '{root}' has an unsupported extension '{root.suffix}' "
            "(expected .csv, .parquet or .xlsx)"
        )
    return [root]


def read_export(
    export: str, path: str | os.PathLike[str], mapping: SourceMapping | None = None
) -> RawExport:
    """Read `path` (a file or a folder of files) as `export`; see the module doc for naming."""
    if export not in COLUMNS:
        raise ValueError(f"unknown export {export!r}; expected one of {sorted(COLUMNS)}")
    spec = (mapping or SourceMapping()).for_export(export)
    root = Path(path)
    files = _list_files(export, root)
    # abspath (not resolve): "." still gets its folder name, symlinks are not followed.
    folder = Path(os.path.abspath(root)).name if root.is_dir() else None
    sources = tuple(
        _read_source(export, f, f"{folder}/{f.name}" if folder else f.name, spec) for f in files
    )
    frame = _concat([_contract_frame(export, s) for s in sources])
    return RawExport(
        export=export, path=root, frame=frame, files=sources, formats=dict(spec.formats)
    )
