"""The mapping file: which of a billing system's headers is which contract column, per export.

A TOML file (see data/mappings/example-ehr.toml) names, per export, the system's header for each
contract column, strptime formats for date and time columns, CSV options and the XLSX sheet.
`match_headers` applies one export's part to a file's headers. Errors name the file and key:
MappingError for the mapping file, InputError for a data file whose headers do not fit.
"""

from __future__ import annotations

import codecs
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from schemas.contract import ALL_EXPORTS, COLUMNS
from schemas.errors import InputError, MappingError


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV export is split and decoded."""

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
    """A whole mapping file; an export it does not name reads with the contract's own headers."""

    name: str | None = None
    path: Path | None = None
    exports: dict[str, ExportMapping] = field(default_factory=dict)

    def for_export(self, export: str) -> ExportMapping:
        return self.exports.get(export, ExportMapping())


_TOP_KEYS = frozenset({"name", "description", *ALL_EXPORTS})
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
        exports={e: _export_mapping(e, data[e], path) for e in ALL_EXPORTS if e in data},
    )


# ---------------------------------------------------------------------------- headers
def _header_key(header: str) -> str:
    return header.replace("\ufeff", "").strip().casefold()


def match_headers(
    export: str, label: str, headers: list[str], spec: ExportMapping
) -> dict[str, str]:
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
