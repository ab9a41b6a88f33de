"""The Exposure part of report.html's summary as plain data (checks/sampling/exposure.py computes
it): what the universe paid, what the findings put at risk, and what an auditor's random sample
would most likely extrapolate to if every finding held on review."""

from __future__ import annotations

from typing import Any

from checks.sampling.exposure import Exposure
from reports.formatting import fmt_int, fmt_money, fmt_pct


def exposure_view(e: Exposure | None) -> dict[str, Any] | None:
    """None when no claim was paid (the report then leaves the part out)."""
    if e is None:
        return None
    return {
        "universe_claims": e.universe_claims,
        "universe_claims_display": fmt_int(e.universe_claims),
        "paid_total": e.paid_total,
        "paid_total_display": fmt_money(e.paid_total),
        "at_risk_total": e.at_risk_total,
        "at_risk_total_display": fmt_money(e.at_risk_total),
        "claims_in_error": e.claims_in_error,
        "claims_in_error_display": fmt_int(e.claims_in_error),
        "error_rate_display": fmt_pct(e.error_rate),
        "dollar_error_rate_display": fmt_pct(e.dollar_error_rate),
        "sample_size": e.sample_size,
        "point_estimate": e.point_estimate,
        "point_estimate_display": fmt_money(e.point_estimate),
        "lower_limit": e.lower_limit_one_sided_90,
        "lower_limit_display": fmt_money(max(e.lower_limit_one_sided_90, 0.0)),
        "t_display": f"{e.t:.6f}",
        "se_total_display": fmt_money(e.se_total),
    }
