"""Rows in memory or scanned. The last stages of a run (findings, report, history) read the
accepted claim lines and notes either as the frames validation kept in memory or, in a
partitioned run, as a scan of the store on disk (flows/run/partitioned.py): a query over a scan is
collected on polars' streaming engine, which holds what it groups or keeps, never every row.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Lines = pl.DataFrame | pl.LazyFrame
Engine = Literal["auto", "streaming"]


def engine_of(lines: Lines) -> Engine:
    """The engine to collect a query over `lines` with: streaming over a scan, whose rows are
    not in memory; polars' default (in memory) over a frame that is."""
    return "streaming" if isinstance(lines, pl.LazyFrame) else "auto"


def line_count(lines: Lines) -> int:
    """How many rows `lines` has (a scan's count reads the files' metadata, not their rows)."""
    if isinstance(lines, pl.DataFrame):
        return lines.height
    return int(lines.select(pl.len()).collect(engine="streaming").item())


def payer_types(lines: Lines) -> list[str]:
    """The payer types of `lines`, sorted."""
    found = (
        lines.lazy()
        .select(pl.col("payer_type").unique().drop_nulls())
        .collect(engine=engine_of(lines))
        .get_column("payer_type")
    )
    return sorted(found.to_list())


def collected(lines: Lines) -> pl.DataFrame:
    """`lines` in memory (a scan read whole: for what only small inputs reach)."""
    return lines if isinstance(lines, pl.DataFrame) else lines.collect(engine="streaming")
