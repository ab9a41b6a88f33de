"""The mapping file: which of a billing system's headers is which contract column, per export.

A TOML file (see data/mappings/example-ehr.toml) names, per export, the system's header for each
contract column, strptime formats for date and time columns, CSV options and the XLSX sheet; and,
for exports that do not fit the contract as they are: constants (`payer_type = "medicare"` for a
Medicare-only file), value maps (`MB` -> medicare), columns joined into one (modifiers 1-4) and a
row filter (Synthea's payment rows). Top level: `npi_check` ("quarantine", the default, or "warn"
for masked extracts whose NPIs fail the check digit). `match_headers` applies one export's part
to a file's headers (flows/inputs/transform.py the rest). Errors name the file and key:
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


# Row-filter operators: text comparisons, trimmed and case-insensitive.
FILTER_OPS = ("==", "!=", "in", "not in")
# NPI check modes: a failing check digit quarantines the row, or is counted as a warning only.
NPI_CHECKS = ("quarantine", "warn")


@dataclass(frozen=True)
class RowFilter:
    """Keep a row when the file's column `column` (a header, not a contract name) compares
    with `values` by `op`; a row failing any filter is "filtered by the mapping" and counted."""

    column: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ExportMapping:
    """One export's part of a mapping file: contract column → the billing system's header, plus
    constants, value maps (keys trimmed and case-folded), joined columns and row filters."""

    columns: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    csv: CsvOptions = field(default_factory=CsvOptions)
    sheet: str | None = None
    constants: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    join: dict[str, tuple[str, ...]] = field(default_factory=dict)
    filters: tuple[RowFilter, ...] = ()


@dataclass(frozen=True)
class SourceMapping:
    """A whole mapping file; an export it does not name reads with the contract's own headers."""

    name: str | None = None
    path: Path | None = None
    exports: dict[str, ExportMapping] = field(default_factory=dict)
    npi_check: str = "quarantine"

    def for_export(self, export: str) -> ExportMapping:
        return self.exports.get(export, ExportMapping())


_TOP_KEYS = frozenset({"name", "description", "npi_check", *ALL_EXPORTS})
_EXPORT_KEYS = frozenset(
    {"columns", "formats", "csv", "sheet", "constants", "values", "join", "filter"}
)
_CSV_KEYS = frozenset({"delimiter", "encoding"})
_FILTER_KEYS = frozenset({"column", "op", "value"})


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


def _scalar(value: Any, where: str, path: Path) -> str:
    # TOML gives numbers for unquoted values (a payer id 12345); they mean their text
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise MappingError(f"mapping file '{path}': '{where}' must be a string or a number")
    return _text(str(value), where, path)


def _text_column(export: str, column: str, where: str, path: Path) -> str:
    kinds = {c.name: c.kind for c in COLUMNS[export]}
    if kinds[column] != "text":
        raise MappingError(f"mapping file '{path}': '{where}' is not a text column")
    return column


def _values(
    export: str, value: Any, names: frozenset[str], path: Path
) -> dict[str, dict[str, str]]:
    where = f"{export}.values"
    out: dict[str, dict[str, str]] = {}
    for column, table in _table(value, where, names, path).items():
        _text_column(export, column, f"{where}.{column}", path)
        pairs = _table(table, f"{where}.{column}", None, path)
        if not pairs:
            raise MappingError(f"mapping file '{path}': '{where}.{column}' maps no value")
        out[column] = {
            k.strip().lower(): _scalar(v, f"{where}.{column}.{k}", path) for k, v in pairs.items()
        }
    return out


def _join(export: str, value: Any, names: frozenset[str], path: Path) -> dict[str, tuple[str, ...]]:
    where = f"{export}.join"
    out: dict[str, tuple[str, ...]] = {}
    for column, headers in _table(value, where, names, path).items():
        _text_column(export, column, f"{where}.{column}", path)
        if not isinstance(headers, list) or not headers:
            raise MappingError(
                f"mapping file '{path}': '{where}.{column}' must be a list of column names"
            )
        out[column] = tuple(_text(h, f"{where}.{column}", path) for h in headers)
    return out


def _filters(export: str, value: Any, path: Path) -> tuple[RowFilter, ...]:
    where = f"{export}.filter"
    if not isinstance(value, list):
        raise MappingError(f"mapping file '{path}': '{where}' must be an array of tables")
    out = []
    for i, entry in enumerate(value):
        at = f"{where}[{i}]"
        table = _table(entry, at, _FILTER_KEYS, path)
        missing = sorted(_FILTER_KEYS - set(table))
        if missing:
            raise MappingError(f"mapping file '{path}': '{at}' lacks '{missing[0]}'")
        column = _text(table["column"], f"{at}.column", path)
        op = table["op"]
        if op not in FILTER_OPS:
            listed = ", ".join(FILTER_OPS)
            raise MappingError(f"mapping file '{path}': '{at}.op' must be one of {listed}")
        raw = table["value"]
        if op in ("in", "not in"):
            if not isinstance(raw, list) or not raw:
                raise MappingError(f"mapping file '{path}': '{at}.value' must be a list")
            values = tuple(_scalar(v, f"{at}.value", path) for v in raw)
        else:
            values = (_scalar(raw, f"{at}.value", path),)
        out.append(RowFilter(column, op, tuple(v.strip().lower() for v in values)))
    return tuple(out)


def _export_mapping(export: str, value: Any, path: Path) -> ExportMapping:
    table = _table(value, export, _EXPORT_KEYS, path)
    names = frozenset(c.name for c in COLUMNS[export])
    columns = _table(table.get("columns", {}), f"{export}.columns", names, path)
    constants = _table(table.get("constants", {}), f"{export}.constants", names, path)
    join = _join(export, table.get("join", {}), names, path)
    # one source per contract column: a header, a constant or a join
    for a, b, other in (("columns", "constants", constants), ("columns", "join", join)):
        for column in set(columns) & set(other):
            raise MappingError(
                f"mapping file '{path}': '{export}.{a}.{column}' and '{export}.{b}.{column}' "
                "both set the column"
            )
    for column in set(constants) & set(join):
        raise MappingError(
            f"mapping file '{path}': '{export}.constants.{column}' and '{export}.join.{column}' "
            "both set the column"
        )
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
        constants={k: _scalar(v, f"{export}.constants.{k}", path) for k, v in constants.items()},
        values=_values(export, table.get("values", {}), names, path),
        join=join,
        filters=_filters(export, table.get("filter", []), path),
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
    npi_check = data.get("npi_check", "quarantine")
    if npi_check not in NPI_CHECKS:
        listed = ", ".join(NPI_CHECKS)
        raise MappingError(f"mapping file '{path}': 'npi_check' must be one of {listed}")
    return SourceMapping(
        name=None if name is None else _text(name, "name", path),
        path=path,
        exports={e: _export_mapping(e, data[e], path) for e in ALL_EXPORTS if e in data},
        npi_check=npi_check,
    )


# ---------------------------------------------------------------------------- headers
def _header_key(header: str) -> str:
    return header.replace("\ufeff", "").strip().casefold()


def find_header(label: str, headers: list[str], name: str, why: str) -> str:
    """The file's header for `name` (case-insensitive, trimmed); InputError naming `why`."""
    matches = [h for h in headers if _header_key(h) == _header_key(name)]
    if len(matches) > 1:
        raise InputError(f"{label} has more than one column named '{name}'")
    if not matches:
        raise InputError(f"{label} has no column '{name}' ({why})")
    return matches[0]


def match_headers(
    export: str, label: str, headers: list[str], spec: ExportMapping
) -> dict[str, str]:
    """contract column → the file's header; case-insensitive and whitespace-trimmed. Columns
    the mapping sets by a constant or a join are not looked up."""
    by_key: dict[str, list[str]] = {}
    for header in headers:
        by_key.setdefault(_header_key(header), []).append(header)
    found: dict[str, str] = {}
    missing: list[str] = []
    for column in COLUMNS[export]:
        if column.name in spec.constants or column.name in spec.join:
            continue
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
