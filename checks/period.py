"""The audit period: which claim lines an audit audits. Pure polars.

An audit with a period (first and last day, inclusive) audits the claim lines whose date of
service falls within it; without one, every line. Lines outside the period are not audited and
not dropped: they are counted (read = audited + outside the period + quarantined) and they stay
context for the rules, which see every line and flag only the lines in scope
(checks/engine.py gives a line outside the period no profile). So a treatment before the period
still dates the first treatment under a plan (Pub. 100-02 ch. 15 §220.1.3), and plans and notes
of any date are evidence. Rules that add up a provider's or a patient's day are not affected:
a day is wholly inside or wholly outside the period.
"""

from __future__ import annotations

from datetime import date
from typing import overload

import polars as pl

from checks.rows import Lines, line_count

Period = tuple[date, date]


def in_period(period: Period | None) -> pl.Expr:
    """True for a claim line whose service_date is within `period` (inclusive); every line
    without a period. A line without a date is outside (the contract quarantines it anyway)."""
    if period is None:
        return pl.lit(True)
    start, end = period
    return (
        pl.col("service_date")
        .is_between(pl.lit(start), pl.lit(end), closed="both")
        .fill_null(False)
    )


@overload
def split_period(claims: pl.DataFrame, period: Period | None) -> tuple[pl.DataFrame, int]: ...
@overload
def split_period(claims: pl.LazyFrame, period: Period | None) -> tuple[pl.LazyFrame, int]: ...
@overload
def split_period(claims: Lines, period: Period | None) -> tuple[Lines, int]: ...
def split_period(claims: Lines, period: Period | None) -> tuple[Lines, int]:
    """(the claim lines of `period`, how many lines fall outside it); without a period the
    claims themselves and 0, untouched. A scan stays a scan, filtered as it is read."""
    if period is None:
        return claims, 0
    if isinstance(claims, pl.LazyFrame):
        kept = claims.filter(in_period(period))
        return kept, line_count(claims) - line_count(kept)
    frame = claims.lazy().filter(in_period(period)).collect()
    return frame, claims.height - frame.height
