"""Reading a reviewed worksheet (CSV or XLSX) and a strata file into cents per stratum. Errors
name the row and the column, never the cell's value, and come out as one line."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from checks.sampling.money import to_cents
from checks.sampling.rng import SamplingError
from checks.sampling.variable import SampleValues
from flows.inputs.formats.workbook import inspect_workbook
from schemas.errors import InputError

SINGLE = "all"


def _read_table(path: Path, what: str) -> pl.DataFrame:
    if not path.is_file():
        raise InputError(f"{what} '{path}' does not exist or is not a file")
    try:
        if path.suffix.lower() == ".xlsx":
            inspect_workbook(f"{what} '{path}'", path)  # limits first: the reader can abort
            frame = pl.read_excel(path, sheet_id=1, infer_schema_length=0)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except InputError:
        raise
    except Exception as err:  # any parser failure is a bad file, reported in one line
        raise InputError(f"{what} '{path}' could not be read ({type(err).__name__})") from None
    frame = frame.rename({c: c.strip().lower() for c in frame.columns})
    if frame.height == 0:
        raise InputError(f"{what} '{path}' has no rows")
    return frame.select(pl.all().cast(pl.String))


def _cents(value: str | None, row: int, column: str, path: Path) -> int:
    if value is None or not value.strip():
        raise InputError(
            f"worksheet '{path}' row {row}: {column} is blank; a reviewed unit needs an amount "
            "(0 when nothing is supported), never an empty cell"
        )
    try:
        return to_cents(value.replace(",", "").replace("$", ""))
    except SamplingError:
        raise InputError(f"worksheet '{path}' row {row}: {column} is not an amount") from None


def read_worksheet(path: Path) -> tuple[dict[str, SampleValues], bool, dict[str, int]]:
    """Cents per stratum, whether examined and audited amounts were given (not only the
    difference) and each stratum's first row. Rows count the header as row 1, as a spreadsheet
    does."""
    frame = _read_table(path, "worksheet")
    columns = set(frame.columns)
    paired = {"examined_amount", "audited_amount"} <= columns
    if not paired and "difference" not in columns:
        missing = sorted({"examined_amount", "audited_amount"} - columns)
        raise InputError(
            f"worksheet '{path}' has no column {missing[0]} (give examined_amount and "
            "audited_amount, or difference)"
        )
    strata: dict[str, tuple[list[int], list[int]]] = {}
    stratum_column = "stratum" in columns
    first_rows: dict[str, int] = {}
    for i, row in enumerate(frame.iter_rows(named=True), start=2):
        name = (row["stratum"] or "").strip() if stratum_column else SINGLE
        if not name:
            raise InputError(f"worksheet '{path}' row {i}: stratum is blank")
        first_rows.setdefault(name, i)
        examined, audited = strata.setdefault(name, ([], []))
        if paired:
            examined.append(_cents(row["examined_amount"], i, "examined_amount", path))
            audited.append(_cents(row["audited_amount"], i, "audited_amount", path))
        else:
            examined.append(_cents(row["difference"], i, "difference", path))
            audited.append(0)
    samples = {k: SampleValues(tuple(e), tuple(a)) for k, (e, a) in strata.items()}
    return samples, paired, first_rows


def read_strata(path: Path) -> dict[str, int]:
    """`stratum,universe_size` rows: the number of units in each stratum's universe."""
    frame = _read_table(path, "strata file")
    for column in ("stratum", "universe_size"):
        if column not in frame.columns:
            raise InputError(f"strata file '{path}' has no column {column}")
    sizes: dict[str, int] = {}
    for i, row in enumerate(frame.iter_rows(named=True), start=2):
        name = (row["stratum"] or "").strip()
        text = (row["universe_size"] or "").strip()
        if not name or not text.isdigit() or int(text) < 1:
            raise InputError(
                f"strata file '{path}' row {i}: needs a stratum and a universe_size of at least 1"
            )
        if name in sizes:
            raise InputError(f"strata file '{path}' row {i}: stratum listed twice")
        sizes[name] = int(text)
    return sizes
