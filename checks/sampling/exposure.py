"""What an auditor's random sample of the audited claims would most likely extrapolate to, if
every finding held on review: the universe of paid claims, the difference of each claim (paid
minus paid less its findings' amount at risk, each line once at its largest amount, never more
than paid), and the expected point estimate and one-sided 90 % lower limit of a simple random
sample of claims (CMS Pub. 100-08 Ch. 8 §8.4.5.1; the variable appraisal of OIG's RAT-STATS).

The sample mean is unbiased, so the expected point estimate is the universe's total difference;
the lower limit is computed with the universe's SD standing in for the sample's, which is what
a sample would most likely show. Findings are not a review: this is the exposure the findings
imply, not a determination.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import polars as pl

from checks.rows import Engine
from checks.sampling.frame import cents, unit_lines
from checks.sampling.quantiles import two_sided_t

# The OIG Provider Self-Disclosure Protocol's minimum sample; auditors' samples are often this size.
SAMPLE_SIZE = 100


@dataclass(frozen=True)
class Exposure:
    universe_claims: int
    paid_total: float
    at_risk_total: float
    claims_in_error: int
    error_rate: float
    dollar_error_rate: float
    sample_size: int
    point_estimate: float
    se_total: float
    t: float
    lower_limit_one_sided_90: float


def claim_differences(lines: pl.LazyFrame, findings: pl.LazyFrame) -> pl.LazyFrame:
    """Per paid claim (paid amount above 0) of `lines`: paid and d in cents, d being the at-risk
    amount of its lines (each line once, at its largest amount_at_risk) but never more than
    paid: the examined less the audited amount of a worksheet row (checks/sampling/frame.py's
    prefill), without the worksheet's ordering and evidence text, which a total never needs."""
    per_line = unit_lines(lines, "claim").select("claim_id", "line_number", "paid")
    risk = (
        findings.select(
            pl.col("claim_id").cast(pl.String),
            pl.col("line_number").cast(pl.Int64),
            cents("amount_at_risk").alias("risk"),
        )
        .group_by("claim_id", "line_number")
        .agg(pl.col("risk").max())
    )
    return (
        per_line.join(risk, on=["claim_id", "line_number"], how="left")
        .group_by("claim_id")
        .agg(pl.col("paid").sum(), pl.col("risk").sum())
        .filter(pl.col("paid") > 0)
        .select("paid", pl.min_horizontal("risk", "paid").alias("d"))
    )


def expected_exposure(
    lines: pl.LazyFrame,
    findings: pl.LazyFrame,
    sample_size: int = SAMPLE_SIZE,
    engine: Engine = "auto",
) -> Exposure | None:
    """The exposure of the paid claims in `lines` (the claim lines audited) given `findings`;
    None when no claim was paid. `engine`: streaming over a scan of the lines (checks/rows.py)."""
    diff = claim_differences(lines, findings)
    stats = (
        diff.select(
            pl.len().alias("n"),
            pl.col("paid").sum().alias("paid"),
            pl.col("d").sum().alias("d"),
            (pl.col("d") > 0).sum().alias("errors"),
            (pl.col("d") / 100).std(ddof=1).fill_null(0.0).alias("sd"),
        )
        .collect(engine=engine)
        .row(0, named=True)
    )
    size = int(stats["n"])
    if size == 0:
        return None
    n = min(sample_size, size)
    paid, total = stats["paid"] / 100, stats["d"] / 100
    se_total = size * stats["sd"] / math.sqrt(n) * math.sqrt((size - n) / size)
    t = two_sided_t(0.80, n - 1) if n > 1 else 0.0
    return Exposure(
        universe_claims=size,
        paid_total=round(paid, 2),
        at_risk_total=round(total, 2),
        claims_in_error=int(stats["errors"]),
        error_rate=stats["errors"] / size,
        dollar_error_rate=total / paid if paid else 0.0,
        sample_size=n,
        point_estimate=round(total, 2),
        se_total=round(se_total, 2),
        t=t,
        lower_limit_one_sided_90=round(total - t * se_total, 2),
    )
