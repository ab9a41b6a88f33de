"""What the X12 transaction readers share: rows collected as columns of text, claim-level
problems, and the element formats of the implementation guides (dates, amounts, composites)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import polars as pl

from flows.inputs.x12.segments import Segment

# The component separator is file-specific: readers split composites themselves with it.
ROW = "_segment"


@dataclass
class Rows:
    """Rows under `columns` (all text), each with the 1-based segment position of the segment
    that opened it (SV1, SVC), and at most one problem per row."""

    columns: tuple[str, ...]
    data: dict[str, list[str | None]] = field(default_factory=dict)
    positions: list[int] = field(default_factory=list)
    problem_rows: list[int] = field(default_factory=list)
    problem_columns: list[str] = field(default_factory=list)
    problem_reasons: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = {c: [] for c in self.columns}

    def add(self, position: int, values: dict[str, str | None]) -> None:
        self.positions.append(position)
        for name in self.columns:
            self.data[name].append(values.get(name))

    def problem(self, position: int, column: str, reason: str) -> None:
        self.problem_rows.append(position)
        self.problem_columns.append(column)
        self.problem_reasons.append(reason)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({c: pl.Series(c, v, dtype=pl.String) for c, v in self.data.items()})

    def row_numbers(self) -> pl.Series:
        return pl.Series(ROW, self.positions, dtype=pl.Int64)

    def problems(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "source_row": pl.Series(self.problem_rows, dtype=pl.Int64),
                "column": pl.Series(self.problem_columns, dtype=pl.String),
                "reason": pl.Series(self.problem_reasons, dtype=pl.String),
            }
        )


def x12_date(value: str) -> str | None:
    """CCYYMMDD (the D8 format) as ISO text, None when it is not one; the calendar itself is
    checked when the contract parses the date."""
    if len(value) != 8 or not value.isdigit() or not ("01" <= value[4:6] <= "12"):
        return None
    if not ("01" <= value[6:8] <= "31"):
        return None
    return f"{value[:4]}-{value[4:6]}-{value[6:8]}"


def amount(value: str) -> str | None:
    """An X12 decimal (R) element as text, None when blank or not a number."""
    if not value:
        return None
    try:
        float(value)
    except ValueError:
        return None
    return value


def whole(value: str) -> int | None:
    """A quantity that is a whole number (4, 4.0), else None."""
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if number.is_integer() and number >= 0 else None


@dataclass(frozen=True)
class Procedure:
    qualifier: str
    code: str
    modifiers: str | None


def procedure(element: str, component: str) -> Procedure:
    """A composite medical procedure identifier (SV101, SVC01, SVC06): qualifier, code and up
    to four modifiers joined with ':' as the contract reads them."""
    parts = element.split(component)
    mods = [m for m in parts[2:6] if m]
    return Procedure(parts[0], parts[1] if len(parts) > 1 else "", ":".join(mods) or None)


def stable_id(*parts: str) -> str:
    """A patient id from name and birth date when the file gives no member id: a digest, so the
    name itself never becomes an id that outputs would carry."""
    digest = hashlib.sha256("|".join(p.strip().upper() for p in parts).encode("utf-8"))
    return "X12-" + digest.hexdigest()[:16]


def at(segment: Segment) -> str:
    return f"segment {segment.position} ({segment.id})"
