"""The three amounts a reader of an appraisal needs, each with the rule that picks it, and the
warnings a reviewer should see before relying on them."""

from __future__ import annotations

from dataclasses import dataclass

from checks.sampling.variable import Appraisal

DISCLOSURE_MINIMUM = 100
SMALL_SAMPLE = 30


@dataclass(frozen=True)
class Amount:
    key: str
    amount: float
    rule: str
    source: str


def demand_amounts(appraisal: Appraisal) -> tuple[Amount, ...]:
    """SDP point estimate (no netting), CMS one-sided 90 % lower limit, OIG two-sided 90 % lower
    limit, all from the difference (examined minus audited) estimator."""
    diff = appraisal.overall["difference"]
    over = appraisal.overall["overpayment"]
    return (
        Amount(
            "sdp_point_estimate",
            over.point_estimate,
            "point estimate of the overpayment, underpayments not netted (counted as 0)",
            "OIG Provider Self-Disclosure Protocol (2013) §III.B",
        ),
        Amount(
            "cms_lower_limit_one_sided_90",
            diff.interval(0.80).lower,
            "lower limit of a one-sided 90 % confidence interval (the two-sided 80 % lower limit)",
            "CMS Medicare Program Integrity Manual, Pub. 100-08 Ch. 8 §8.4.5.1",
        ),
        Amount(
            "oig_lower_limit_two_sided_90",
            diff.interval(0.90).lower,
            "lower limit of the two-sided 90 % confidence interval",
            "OIG audit practice with RAT-STATS (OIG RAT-STATS 2010 User Guide)",
        ),
    )


def warnings(appraisal: Appraisal) -> tuple[str, ...]:
    """What makes the amounts weaker than they look: small samples, negative estimates."""
    out = []
    n = appraisal.overall["difference"].sample_size
    if n < DISCLOSURE_MINIMUM:
        out.append(
            f"{n} sampled units: a self-disclosure needs at least {DISCLOSURE_MINIMUM} "
            "(OIG Provider Self-Disclosure Protocol §III.B)"
        )
    small = [
        name or "all"
        for name, series in appraisal.strata.items()
        if series["difference"].sample_size < SMALL_SAMPLE
        and series["difference"].sample_size < series["difference"].universe_size
    ]
    if small:
        out.append(
            f"fewer than {SMALL_SAMPLE} units sampled in {', '.join(small)}: "
            "the t limits rest on a normal approximation that such samples may not support"
        )
    diff = appraisal.overall["difference"]
    if diff.point_estimate < 0:
        out.append("the point estimate of the difference is negative (net underpayment)")
    negative = [f"{round(i.confidence * 100)} %" for i in diff.intervals if i.lower < 0]
    if negative:
        out.append(f"the lower limit is negative at {', '.join(negative)}: no overpayment is shown")
    if appraisal.underpayments:
        out.append(
            f"{appraisal.underpayments} sampled unit(s) were underpaid: the SDP amount counts "
            "them as 0, the CMS and OIG limits net them"
        )
    return tuple(out)
