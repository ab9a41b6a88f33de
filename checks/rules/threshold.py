"""Therapy threshold rules: Medicare lines past the year's KX threshold carry the KX modifier.

Also `beneficiaries_past_review`, the beneficiaries whose allowed therapy spending in the export
passes the targeted medical-review threshold, for the report.
"""

from __future__ import annotations

import polars as pl

from checks.base import LINE_KEY, NULL_INT, AuditData, CodeSets, line_discipline, rule_output
from checks.declare import RISK_SHARE_COLUMN, Param, rule
from checks.reference import Reference, latest_rows
from checks.rows import Engine
from schemas.contract import PAYER_TYPES

# PT and SLP spending counts toward one threshold, OT toward another (Pub. 100-04 Ch. 5 §10.3)
GROUP = pl.when(pl.col("discipline") == "OT").then(pl.lit("OT")).otherwise(pl.lit("PT+SLP"))
GROUP_KEY = ["patient_id", "year", "group"]
YEAR = pl.col("service_date").dt.year().cast(pl.Int32).alias("year")


def allowed_lines(
    lines: pl.LazyFrame, reference: Reference, coinsurance: float, payer_types: list[str]
) -> pl.LazyFrame:
    """The billed PT, SLP and OT lines (`discipline`) of the payer types (or in scope) with
    `year`, `group` and `allowed`: the allowed amount, else the fee schedule's rate x units where
    the table has the code, else paid / (1 - coinsurance), else 0 (basis_text says which)."""
    scope = pl.col("payer_type").is_in(payer_types)
    if "in_scope" in lines.collect_schema().names():
        scope = scope | pl.col("in_scope")
    therapy = (
        lines.filter(
            (pl.col("units") > 0) & pl.col("discipline").is_in(["PT", "SLP", "OT"]) & scope
        )
        .with_columns(YEAR, group=GROUP)
        .cache()
    )
    if reference.fee_schedule is not None:
        fees = latest_rows(reference.fee_schedule.lazy(), therapy.select("year"), ["code"])
        therapy = therapy.join(
            fees.select(
                "year",
                pl.col("code").alias("procedure_code"),
                pl.col("rate").alias("_rate"),
                pl.col("table_year").alias("_fee_year"),
            ),
            on=["year", "procedure_code"],
            how="left",
        )
    else:
        therapy = therapy.with_columns(
            _rate=pl.lit(None, dtype=pl.Float64), _fee_year=pl.lit(None, dtype=pl.Int32)
        )
    from_paid = pl.col("paid_amount") / (1 - coinsurance) if coinsurance < 1 else None
    allowed = pl.coalesce(
        pl.col("allowed_amount"),
        pl.col("_rate") * pl.col("units"),
        from_paid if from_paid is not None else pl.lit(None, dtype=pl.Float64),
    )
    return therapy.with_columns(allowed=allowed.fill_null(0.0))


def basis_text(coinsurance: float) -> pl.Expr:
    """Which amount `allowed` came from, for the evidence of the (few) flagged lines only."""
    from_paid = coinsurance < 1
    return (
        pl.when(pl.col("allowed_amount").is_not_null())
        .then(pl.lit("allowed amount"))
        .when(pl.col("_rate").is_not_null())
        .then(
            pl.format(
                "fee schedule {} rate {} x {} units",
                pl.col("_fee_year"),
                pl.col("_rate").round(2),
                pl.col("units"),
            )
        )
        .when(pl.col("paid_amount").is_not_null() & pl.lit(from_paid))
        .then(pl.format("paid {} / (1 - {})", pl.col("paid_amount").round(2), pl.lit(coinsurance)))
        .otherwise(pl.lit("none (no allowed, fee or paid amount)"))
    )


def _thresholds(reference: Reference, years: pl.LazyFrame) -> pl.LazyFrame:
    """The threshold row of each service year the table has. Only the year's own row: the
    threshold changes every year, so another year's would misjudge the line; a service year
    without a row is not checked."""
    assert reference.thresholds is not None  # needs: the engine checked it
    table = reference.thresholds.lazy().with_columns(pl.col("year").cast(pl.Int32))
    return (
        years.unique()
        .join(table, on="year", how="inner")
        .select("year", pl.col("year").alias("table_year"), "kx_threshold", "review_threshold")
    )


@rule(
    "KX-MISSING",
    action="correct",
    title="Therapy line past the year's threshold without the KX modifier",
    severity="error",
    citation=(
        "CMS Medicare Claims Processing Manual, Pub. 100-04 (2024), Ch. 5 §10.3 (KX modifier "
        "threshold: PT and SLP combined, OT separately, per beneficiary and calendar year)"
    ),
    params=(
        Param(
            "coinsurance",
            0.20,
            "beneficiary coinsurance share: the allowed amount of a line with neither an "
            "allowed amount nor a fee-schedule rate is paid / (1 - coinsurance)",
            minimum=0.0,
            maximum=0.99,
        ),
        Param(
            "payer_types",
            ["medicare"],
            "payer types whose lines count toward the threshold (beside the lines in scope)",
            choices=PAYER_TYPES,
        ),
    ),
    needs=("reference.thresholds",),
)
def kx_missing(data: AuditData, *, coinsurance: float, payer_types: list[str]) -> pl.LazyFrame:
    """Per beneficiary and calendar year, PT and SLP lines together and OT lines apart, in
    order of date of service (then claim and line): the line whose allowed amount takes the
    year's total past the threshold (the program's threshold table by year: $2,410 in 2025,
    $2,480 in 2026) and every later line of the group, when it lacks the KX modifier. A service
    year without a row in the table is not checked (another year's threshold would misjudge it).

    The allowed amount counts toward the threshold (deductible and coinsurance included): the
    claim's `allowed_amount`, else the fee schedule's rate x units, else the paid amount /
    (1 - coinsurance); the evidence names the basis. Only the spending in the export is
    visible: lines billed elsewhere in the year are not, so the evidence says so. Medicare
    denies the spending past the threshold without KX: on the crossing line only the part above
    the threshold is at risk ((cumulative - threshold) / the line's allowed amount of its paid
    amount), every later line whole. Medicare profile only.
    """
    lines = allowed_lines(data.lines, data.reference, coinsurance, payer_types)
    limits = _thresholds(data.reference, lines.select("year"))
    # only the groups whose year total passes the threshold are put in order
    over = (
        lines.group_by(GROUP_KEY)
        .agg(pl.col("allowed").sum().alias("_total"))
        .join(limits, on="year", how="inner")
        .filter(pl.col("_total") > pl.col("kx_threshold"))
        .select(*GROUP_KEY, "kx_threshold", "table_year")
    )
    ordered = (
        lines.join(over, on=GROUP_KEY, how="inner")
        .sort(*GROUP_KEY, "service_date", "claim_id", "line_number")
        .with_columns(cumulative=pl.col("allowed").cum_sum().over(GROUP_KEY))
    )
    past = ordered.filter(pl.col("in_scope") & (pl.col("cumulative") > pl.col("kx_threshold")))
    flagged = past.filter(~pl.col("modifiers").fill_null("").str.contains(r"(?:^|:)KX(?::|$)"))
    above = pl.col("cumulative") - pl.col("kx_threshold")
    # the crossing line (the spending before it not past the threshold) is past it in part only
    share = (
        pl.when((above < pl.col("allowed")) & (pl.col("allowed") > 0))
        .then((above / pl.col("allowed")).round(6))
        .otherwise(1.0)
        .cast(pl.Float64)
    )
    flagged = flagged.with_columns(_share=share).cache()
    out = rule_output(
        flagged,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.format(
            "{} line past the {} therapy threshold of ${} ({} spending this year reaches ${} "
            "with this line) carries no KX modifier.",
            pl.col("procedure_code"),
            pl.col("year"),
            pl.col("kx_threshold").round(2),
            pl.col("group"),
            pl.col("cumulative").round(2),
        ),
        evidence=pl.format(
            "allowed basis: {}; allowed this line={}; {} allowed this year through this line={}; "
            "threshold={} ({} table); share of the line past it={}; only spending in this "
            "export is visible",
            basis_text(coinsurance),
            pl.col("allowed").round(2),
            pl.col("group"),
            pl.col("cumulative").round(2),
            pl.col("kx_threshold").round(2),
            pl.col("table_year"),
            pl.col("_share").round(4),
        ),
    )
    # the share rides along by key: rule_output keeps the findings columns only
    risk = flagged.select(*LINE_KEY, pl.col("_share").alias(RISK_SHARE_COLUMN))
    return out.join(risk, on=list(LINE_KEY), how="left")


def beneficiaries_past_review(
    claims: pl.LazyFrame,
    codes: CodeSets,
    reference: Reference,
    *,
    coinsurance: float = 0.20,
    payer_types: tuple[str, ...] = ("medicare",),
    engine: Engine = "auto",
) -> pl.DataFrame:
    """Beneficiaries whose allowed PT+SLP or OT spending in the export passes the year's
    targeted medical-review threshold ($3,000; Pub. 100-04 Ch. 5 §10.3), for the report:
    patient_id, year, group, allowed (the year's total), review_threshold; largest first.
    `claims`: validated claim lines; a line's discipline from GP/GO/GN, else its code's.
    `engine`: streaming over a scan of the lines (checks/rows.py)."""
    if reference.thresholds is None:
        return pl.DataFrame(
            schema={
                "patient_id": pl.String,
                "year": pl.Int32,
                "group": pl.String,
                "allowed": pl.Float64,
                "review_threshold": pl.Float64,
            }
        )
    lines = claims.with_columns(discipline=line_discipline(codes))
    for column in ("allowed_amount", "paid_amount"):
        if column not in lines.collect_schema().names():
            lines = lines.with_columns(pl.lit(None, dtype=pl.Float64).alias(column))
    allowed = allowed_lines(lines, reference, coinsurance, list(payer_types))
    limits = _thresholds(reference, allowed.select("year"))
    return (
        allowed.group_by(GROUP_KEY)
        .agg(pl.col("allowed").sum())
        .join(limits, on="year", how="inner")
        .filter(pl.col("allowed") > pl.col("review_threshold"))
        .select(
            pl.col("patient_id").cast(pl.String), "year", "group", "allowed", "review_threshold"
        )
        .pipe(in_review_order)
        .collect(engine=engine)
    )


def in_review_order(past: pl.LazyFrame) -> pl.LazyFrame:
    """beneficiaries_past_review's rows largest first (a partitioned run's, put together)."""
    return past.sort(
        "allowed", "patient_id", "year", "group", descending=[True, False, False, False]
    )
