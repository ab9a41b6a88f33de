"""What the payer really paid: remittance lines (the optional remits export) joined to claim lines.

The 835 returns the provider's claim id (CLP01 = the 837's CLM01) and, when the 837 sent one,
the line item control number (REF*6R, loop 2110 = the 837's REF*6R of loop 2400: ASC X12N
005010X221A1 §1.10.2.6). A claim line is matched

1. by claim id and line control number, else
2. by claim id, procedure code, modifiers, service date and units (the remittance lines that
   no control number claimed), else
3. by claim id alone, for a payment made to the claim as a whole (no procedure code and no
   control number: an 835 claim payment without service lines), shared among the claim's
   lines still unpaid in proportion to their charges.

Every remittance line of a match is summed (an original payment, its reversal and the corrected
payment add up to what was finally paid); claim lines sharing one fallback key share its total
equally. Matched lines take the remittance's paid amount and allowed amount: AMT*B6 when the
payer sent it, else the line charge less the contractual-obligation (CAS group CO) adjustments;
the adjustments and the basis go into `line_note`, which the findings carry as evidence. A line
without a remittance keeps the amounts of the claims export and says so.
"""

from __future__ import annotations

import polars as pl

KEY = ("claim_id", "procedure_code", "modifiers", "service_date", "units")
CONTROL = ("claim_id", "line_control")
NO_REMIT = "no remittance for this line in the remits export"
_ROW = "__claim_row"
_MODS = "__modifiers"


def _totals() -> list[pl.Expr]:
    allowed = pl.coalesce(
        pl.col("allowed_amount"), pl.col("charge_amount") - pl.col("co_adjustment").fill_null(0.0)
    )
    return [
        pl.col("paid_amount").sum().alias("__paid"),
        allowed.sum().alias("__allowed"),
        pl.col("allowed_amount").is_null().any().alias("__allowed_derived"),
        pl.col("adjustments").drop_nulls().str.join("; ").alias("__adjustments"),
        pl.len().alias("__remit_lines"),
    ]


def _money(expr: pl.Expr) -> pl.Expr:
    return expr.round(2).cast(pl.Decimal(18, 2)).cast(pl.String)


def _by_claim(open_lines: pl.LazyFrame, whole: pl.LazyFrame) -> pl.LazyFrame:
    """Claim-level payments shared among the claim's open lines by charge (equally when the
    charges add up to nothing)."""
    charge = pl.col("charge_amount").fill_null(0.0)
    total = charge.sum().over("claim_id")
    share = pl.when(total > 0).then(charge / total).otherwise(1.0 / pl.len().over("claim_id"))
    return (
        open_lines.join(whole.group_by("claim_id").agg(_totals()), on="claim_id")
        .select(
            _ROW,
            (pl.col("__paid") * share).alias("__paid"),
            (pl.col("__allowed") * share).alias("__allowed"),
            "__allowed_derived",
            "__adjustments",
            "__remit_lines",
        )
        .with_columns(pl.lit("claim (a claim-level payment shared by charge)").alias("__how"))
    )


def apply_remits(claims: pl.LazyFrame, remits: pl.LazyFrame) -> pl.LazyFrame:
    """`claims` with paid_amount, allowed_amount and line_note from `remits` (see the module
    doc); same rows in the same order, same columns (line_control and line_note added when
    absent)."""
    columns = claims.collect_schema().names()
    absent = [c for c in ("line_control", "line_note") if c not in columns]
    lines = claims.with_columns(pl.lit(None, pl.String).alias(c) for c in absent).with_row_index(
        _ROW
    )
    remit = remits.with_columns(pl.col("modifiers").fill_null("").alias(_MODS))
    with_control = remit.filter(pl.col("line_control").is_not_null())
    claimed = lines.select(*CONTROL).filter(pl.col("line_control").is_not_null()).unique()
    by_control = (
        lines.join(with_control.group_by(*CONTROL).agg(_totals()), on=list(CONTROL))
        .select(_ROW, "__paid", "__allowed", "__allowed_derived", "__adjustments", "__remit_lines")
        .with_columns(pl.lit("REF*6R line control").alias("__how"))
    )
    key = [*KEY[:2], _MODS, *KEY[3:]]
    whole = pl.col("procedure_code").is_null() & pl.col("line_control").is_null()
    rest = remit.filter(~whole).join(claimed, on=list(CONTROL), how="anti")
    open_lines = lines.join(by_control.select(_ROW), on=_ROW, how="anti").with_columns(
        pl.col("modifiers").fill_null("").alias(_MODS)
    )
    share = pl.len().over(key)
    by_key = (
        open_lines.join(rest.group_by(key).agg(_totals()), on=key)
        .select(
            _ROW,
            (pl.col("__paid") / share).alias("__paid"),
            (pl.col("__allowed") / share).alias("__allowed"),
            "__allowed_derived",
            "__adjustments",
            "__remit_lines",
        )
        .with_columns(pl.lit("code, modifiers, date and units").alias("__how"))
    )
    by_claim = _by_claim(
        open_lines.join(by_key.select(_ROW), on=_ROW, how="anti"), remit.filter(whole)
    )
    found = pl.concat([by_control, by_key, by_claim], how="vertical_relaxed")
    allowed_note = pl.when(pl.col("__allowed_derived")).then(
        pl.lit(" (charge less CO adjustments)")
    )
    note = pl.concat_str(
        pl.lit("remittance: paid "),
        _money(pl.col("__paid")),
        pl.lit(", allowed "),
        _money(pl.col("__allowed")),
        allowed_note.otherwise(pl.lit("")),
        pl.lit(", matched by "),
        pl.col("__how"),
        pl.when(pl.col("__adjustments").str.len_bytes() > 0)
        .then(pl.concat_str(pl.lit("; adjustments "), pl.col("__adjustments")))
        .otherwise(pl.lit("")),
    )
    matched = pl.col("__remit_lines").is_not_null()
    return (
        lines.join(found, on=_ROW, how="left", maintain_order="left")
        .with_columns(
            pl.when(matched)
            .then(pl.col("__paid"))
            .otherwise(pl.col("paid_amount"))
            .alias("paid_amount"),
            pl.when(matched)
            .then(pl.col("__allowed"))
            .otherwise(pl.col("allowed_amount"))
            .alias("allowed_amount"),
            pl.concat_str(
                pl.col("line_note"),
                pl.when(matched).then(note).otherwise(pl.lit(NO_REMIT)),
                separator="; ",
                ignore_nulls=True,
            ).alias("line_note"),
        )
        .select(*columns, *absent)
    )
