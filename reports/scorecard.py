"""The provider scorecard section of report.html as plain data (reports/view_model.py places it):
one row per rendering provider, flagged ones first, numbers formatted once, and the provider's
name beside the NPI when the run was given a providers export."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from reports import metrics
from reports.formatting import fmt_int, fmt_money, fmt_pct

SCORECARD_ROWS = 100


def scorecard(card: pl.DataFrame | None, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The scorecard section; `names`: provider NPI -> name (the providers export), shown beside
    each NPI when given."""
    names = names or {}
    if card is None:
        return {"available": False, "rows": [], "total": 0, "flagged": 0}
    ordered = card.with_columns((pl.col("low_minutes") | pl.col("high_rate")).alias("_flag")).sort(
        ["_flag", "amount_at_risk", "provider_npi"], descending=[True, True, False]
    )
    rows = []
    for r in ordered.head(SCORECARD_ROWS).iter_rows(named=True):
        flags = []
        if r["low_minutes"]:
            flags.append(f"under {metrics.LOW_MINUTES_PER_UNIT:g} min per timed unit")
        if r["high_rate"]:
            flags.append(f"findings rate ≥ {metrics.HIGH_RATE_FACTOR:g}× the practice's")
        per_unit = r["minutes_per_unit"]
        share = r.get("cloned_share")
        rows.append(
            {
                "provider_npi": r["provider_npi"],
                "provider_name": names.get(r["provider_npi"], ""),
                "lines": fmt_int(r["lines"]),
                "claims": fmt_int(r["claims"]),
                "lines_with_findings": fmt_int(r["lines_with_findings"]),
                "findings": fmt_int(r["findings"]),
                "rate": fmt_pct(r["findings_rate"]),
                "amount": fmt_money(r["amount_at_risk"]),
                "timed_units": fmt_int(r["timed_units"]),
                "minutes": "—"
                if r["documented_minutes"] is None
                else fmt_int(r["documented_minutes"]),
                "per_unit": "—" if per_unit is None else f"{per_unit:.1f}",
                "cloned_share": share,
                "cloned": "—" if share is None else fmt_pct(share),
                "cloned_of": ""
                if share is None
                else f"{fmt_int(r['cloned_notes'])} of {fmt_int(r['notes_with_text'])} notes",
                "flags": flags,
            }
        )
    return {
        "available": True,
        "rows": rows,
        "total": card.height,
        "flagged": int(ordered["_flag"].sum()),
        "named": bool(names),
        # without note text (none in the export, or --redact) the measure cannot be taken
        "cloned_available": "notes_with_text" in card.columns
        and bool(card["notes_with_text"].sum()),
        "low_minutes": f"{metrics.LOW_MINUTES_PER_UNIT:g}",
        "min_units": metrics.MIN_TIMED_UNITS,
        "rate_factor": f"{metrics.HIGH_RATE_FACTOR:g}",
        "min_lines": metrics.MIN_LINES_FOR_RATE,
    }
