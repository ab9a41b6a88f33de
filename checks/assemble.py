"""Findings in the output contract from the rules' raw rows: line columns, money at risk, stable
ids and a deterministic order (issue #3). Pure polars."""

from __future__ import annotations

import polars as pl

from schemas.findings import FINDINGS_COLUMNS, FINDINGS_ORDER, FINDINGS_SCHEMA


def _fee_rate(lines: pl.LazyFrame, fee_schedule: pl.LazyFrame) -> pl.LazyFrame:
    """Per-unit rate of the latest fee-schedule year not after the service year (else the latest
    year there is), looked up once per distinct (code, year)."""
    keys = lines.select(
        pl.col("procedure_code"), pl.col("service_date").dt.year().alias("service_year")
    ).unique()
    fees = fee_schedule.select(
        pl.col("code").alias("procedure_code"), pl.col("year").cast(pl.Int32), "rate"
    )
    best = (
        keys.join(fees, on="procedure_code", how="inner")
        .with_columns(usable=pl.col("year") <= pl.col("service_year"))
        .sort("usable", "year")
        .group_by("procedure_code", "service_year")
        .agg(fee_rate=pl.col("rate").last(), fee_year=pl.col("year").last())
    )
    return lines.with_columns(pl.col("service_date").dt.year().alias("service_year")).join(
        best, on=["procedure_code", "service_year"], how="left"
    )


def assemble(raw: pl.DataFrame, claims: pl.LazyFrame, fee_schedule: pl.LazyFrame) -> pl.DataFrame:
    """Findings in the output contract: line columns, money, stable ids, deterministic order.

    Money (issue #3): a unit finding risks excess units x the line's paid amount per unit; a
    whole-line finding (excess null) risks the line's paid amount. A blank paid amount is
    replaced by the fee-schedule rate x units; a code with no rate risks 0 and says so.
    """
    if raw.is_empty():
        return pl.DataFrame(schema=FINDINGS_SCHEMA)
    # Only the lines of flagged claims are looked up: an is_in on claim_id alone hashes each
    # claim id once, where a semi join on (claim_id, line_number) encoded both keys of all
    # ten million lines first. The left join below keeps the flagged lines of those claims.
    flagged = claims.filter(pl.col("claim_id").is_in(raw.get_column("claim_id").implode()))
    lines = _fee_rate(flagged, fee_schedule).select(
        "claim_id",
        "line_number",
        "patient_id",
        pl.col("rendering_npi").alias("provider_npi"),
        "service_date",
        "procedure_code",
        pl.col("units").alias("billed_units"),
        pl.coalesce("paid_amount", pl.col("fee_rate") * pl.col("units")).alias("line_paid"),
        pl.col("paid_amount").is_null().alias("paid_from_fee"),
        "fee_rate",
        "fee_year",
    )
    per_unit = pl.when(pl.col("billed_units") > 0).then(
        pl.col("line_paid") / pl.col("billed_units")
    )
    amount = (
        pl.when(pl.col("excess_units").is_null())
        .then(pl.col("line_paid"))
        .otherwise(pl.col("excess_units") * per_unit)
    )
    money_note = (
        pl.when(pl.col("line_paid").is_null())
        .then(pl.lit("; amount: no paid amount and no fee-schedule rate"))
        .when(pl.col("paid_from_fee"))
        .then(
            pl.format(
                "; amount: fee schedule {} rate {} per unit",
                pl.col("fee_year"),
                pl.col("fee_rate").round(2),
            )
        )
        .otherwise(pl.lit(""))
    )
    # The rule rows are put in order before the join, which keeps it: the sort gathers the
    # rule columns only, and on the in-memory engine it runs beside the claims lookup (a
    # join's two inputs are evaluated in parallel). FINDINGS_ORDER is unique per finding, as
    # finding_id is. At ten million lines, assemble took 3.2 s before (median of 6), 1.9 s
    # so and 2.6 s on the streaming engine (issue #6).
    return (
        raw.lazy()
        .sort(FINDINGS_ORDER)
        .join(lines, on=["claim_id", "line_number"], how="left", maintain_order="left")
        .with_columns(
            finding_id=pl.format(
                "{}:{}:{}", pl.col("rule_id"), pl.col("claim_id"), pl.col("line_number")
            ),
            amount_at_risk=amount.fill_null(0.0).round(2),
            evidence=pl.concat_str(pl.col("evidence").fill_null(""), money_note),
        )
        .select(FINDINGS_COLUMNS)
        .collect(engine="in-memory")
        .cast(FINDINGS_SCHEMA)
    )
