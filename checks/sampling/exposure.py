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
from dataclasses import astuple, dataclass

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


@dataclass(frozen=True)
class ClaimTotals:
    """Sums over the paid claims, in cents: what the exposure needs of their differences, added
    up exactly over any split of the claims (the sum of squares too: integers, not floats)."""

    claims: int = 0
    paid: int = 0
    d: int = 0
    d_squared: int = 0
    errors: int = 0  # claims with a difference above 0

    def __add__(self, other: ClaimTotals) -> ClaimTotals:
        return ClaimTotals(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


def line_risk(findings: pl.LazyFrame) -> pl.LazyFrame:
    """claim_id, line_number and risk: each flagged line once, at its largest amount at risk
    (cents)."""
    return (
        findings.select(
            pl.col("claim_id").cast(pl.String),
            pl.col("line_number").cast(pl.Int64),
            cents("amount_at_risk").alias("risk"),
        )
        .group_by("claim_id", "line_number")
        .agg(pl.col("risk").max())
    )


def _differences(per_claim: pl.LazyFrame) -> pl.LazyFrame:
    # a claim without findings has no risk: a difference of 0, not its paid amount
    risk = pl.col("risk").fill_null(0)
    return per_claim.filter(pl.col("paid") > 0).select(
        "paid", pl.min_horizontal(risk, "paid").alias("d")
    )


def claim_differences(lines: pl.LazyFrame, findings: pl.LazyFrame) -> pl.LazyFrame:
    """Per paid claim (paid amount above 0) of `lines`: paid and d in cents, d being the at-risk
    amount of its lines (each line once, at its largest amount_at_risk) but never more than
    paid: the examined less the audited amount of a worksheet row (checks/sampling/frame.py's
    prefill), without the worksheet's ordering and evidence text, which a total never needs."""
    per_line = unit_lines(lines, "claim").select("claim_id", "line_number", "paid")
    return _differences(
        per_line.join(line_risk(findings), on=["claim_id", "line_number"], how="left")
        .group_by("claim_id")
        .agg(pl.col("paid").sum(), pl.col("risk").sum())
    )


def differences_by_claim(paid: pl.LazyFrame, findings: pl.LazyFrame) -> pl.LazyFrame:
    """claim_differences from the claims' paid amounts (claim_id, paid in cents; a claim's in
    several rows, added up) instead of their lines: the same whenever every finding flags a
    line of those claims, as the findings of an audit do (assembled from its lines)."""
    per_claim = paid.group_by("claim_id").agg(pl.col("paid").sum())
    risk = line_risk(findings).group_by("claim_id").agg(pl.col("risk").sum())
    return _differences(per_claim.join(risk, on="claim_id", how="left"))


def claim_totals(differences: pl.LazyFrame, engine: Engine = "auto") -> ClaimTotals:
    """ClaimTotals of claim_differences' rows. `engine`: streaming over a scan of the lines."""
    d = pl.col("d")
    wide = d.cast(pl.Int128)  # a sum of squared cents can pass Int64's range
    row = differences.select(
        pl.len().alias("claims"),
        pl.col("paid").sum(),
        d.sum(),
        (wide * wide).sum().alias("d_squared"),
        (d > 0).sum().alias("errors"),
    ).collect(engine=engine)
    return ClaimTotals(*(int(v or 0) for v in row.row(0)))


def exposure_of(totals: ClaimTotals, sample_size: int = SAMPLE_SIZE) -> Exposure | None:
    """The exposure of the paid claims summed in `totals`; None when no claim was paid."""
    size = totals.claims
    if size == 0:
        return None
    n = min(sample_size, size)
    paid, total = totals.paid / 100, totals.d / 100
    # the SD of the differences (in dollars, n - 1 in the denominator) from exact sums
    spread = size * totals.d_squared - totals.d * totals.d
    sd = math.sqrt(spread / (size * (size - 1))) / 100 if size > 1 else 0.0
    se_total = size * sd / math.sqrt(n) * math.sqrt((size - n) / size)
    t = two_sided_t(0.80, n - 1) if n > 1 else 0.0
    return Exposure(
        universe_claims=size,
        paid_total=round(paid, 2),
        at_risk_total=round(total, 2),
        claims_in_error=totals.errors,
        error_rate=totals.errors / size,
        dollar_error_rate=total / paid if paid else 0.0,
        sample_size=n,
        point_estimate=round(total, 2),
        se_total=round(se_total, 2),
        t=t,
        lower_limit_one_sided_90=round(total - t * se_total, 2),
    )


def expected_exposure(
    lines: pl.LazyFrame,
    findings: pl.LazyFrame,
    sample_size: int = SAMPLE_SIZE,
    engine: Engine = "auto",
) -> Exposure | None:
    """The exposure of the paid claims in `lines` (the claim lines audited) given `findings`;
    None when no claim was paid. `engine`: streaming over a scan of the lines (checks/rows.py)."""
    return exposure_of(claim_totals(claim_differences(lines, findings), engine), sample_size)
