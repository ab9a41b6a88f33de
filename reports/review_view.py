"""The beneficiaries past the targeted medical-review threshold as plain data (report.html's
rules section places it): one row per beneficiary, year and therapy group, largest first."""

from __future__ import annotations

from typing import Any

import polars as pl

from reports.formatting import fmt_int, fmt_money

REVIEW_ROWS = 100
GROUP_LABEL = {"PT+SLP": "PT and SLP", "OT": "OT"}


def review_view(past: pl.DataFrame | None) -> dict[str, Any] | None:
    """None when the run had no list (no thresholds table); patient ids as the run holds them
    (already keyed hashes under --redact, as in the findings table)."""
    if past is None:
        return None
    rows = [
        {
            "patient_id": r["patient_id"],
            "year": r["year"],
            "group": GROUP_LABEL.get(r["group"], r["group"]),
            "allowed": r["allowed"],
            "allowed_display": fmt_money(r["allowed"]),
            "threshold_display": fmt_money(r["review_threshold"]),
        }
        for r in past.head(REVIEW_ROWS).iter_rows(named=True)
    ]
    thresholds = sorted({fmt_money(t) for t in past["review_threshold"].unique().to_list()})
    return {
        "rows": rows,
        "total": past.height,
        "total_display": fmt_int(past.height),
        "shown": len(rows),
        "thresholds": " / ".join(thresholds),
    }
