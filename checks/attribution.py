"""Shared helpers of the unit rules: pooling billed units per (patient, date, code) and giving
the excess back to the claim lines that billed them.

Why pool: a payer limits units per patient, date of service and code, not per claim line. When the
same code is billed on two claims (a corrected or split claim, two visits), the units add up and
the limit applies to the sum (CMS Pub. 100-04 Ch. 5 §20.2 counts minutes per patient and day;
NCCI MUEs per provider, patient and day). The excess is then charged to the
later-billed line first (claim_id DESC, line_number DESC), each line at most its own units, so the
earlier claim keeps what the documentation supports and one key never yields more excess than
was billed.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from checks.base import LINE_KEY, SERVICE_ID


def attributed_excess(
    key_excess: pl.Expr,
    *,
    key: Sequence[str] = (SERVICE_ID,),
    units: str = "units",
) -> pl.Expr:
    """Excess units of each line, given `key_excess`, the excess of the line's whole key
    (broadcast on every line of the key).

    Lines of a key are taken in order claim_id DESC, line_number DESC; a line takes
    min(its units, what is left of the key's excess after the lines before it).
    """
    billed = pl.col(units)
    # units of the lines attributed before this one (later-billed lines come first)
    before = billed.cum_sum().over(list(key), order_by=list(LINE_KEY), descending=True) - billed
    left = (key_excess - before).clip(lower_bound=0)
    return pl.min_horizontal(billed, left).cast(pl.Int64)


def units_text(expr: pl.Expr) -> pl.Expr:
    """'1 unit' / '3 units' for messages."""
    return pl.format(
        "{} {}", expr, pl.when(expr == 1).then(pl.lit("unit")).otherwise(pl.lit("units"))
    )


def key_lines_text(*, key: Sequence[str] = (SERVICE_ID,)) -> pl.Expr:
    """'C1/1+C2/1': every claim line billing the same key, for evidence when units were pooled."""
    line = pl.format("{}/{}", pl.col("claim_id"), pl.col("line_number"))
    return line.sort().str.join("+").over(list(key))


def key_billed_text(*, key: Sequence[str] = (SERVICE_ID,)) -> pl.Expr:
    """'3 units' or '3 units across 2 claim lines': the `billed` units of a key's lines."""
    n_lines = pl.len().over(list(key))
    billed = units_text(pl.col("billed"))
    return (
        pl.when(n_lines > 1)
        .then(pl.format("{} across {} claim lines", billed, n_lines))
        .otherwise(billed)
    )
