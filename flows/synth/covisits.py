"""PT and OT treating one patient on one day: an OT bills a timed code the PT's visit also
billed, for the same patient and date (both disciplines bill 97110, 97530, 97140 …).

The OT's service follows the PT's visit (touching, never overlapping), 15 minutes for one unit,
documented by the OT's own note: clean, since minutes count per discipline (CMS Pub. 100-04
Ch. 5 §20.2). Some are inflated by one unit, which UNITS-8MIN must charge to the OT's line alone.
Each PT has a partner OT (a provider of its own, only ever seen with that PT's patients), whose
co-treatments on one day follow one another as the PT's visits do, so they never overlap.
Co-treated patients get an OT copy of their plans of care, and only patients whose plans are
clean are co-treated, so no plan-of-care finding depends on the copy.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from flows.synth.practice import NORMAL, OT_TIMED, Rates, npis

# Share of eligible PT visits co-treated by an OT.
CO_VISIT_RATE = 0.04
# The partner OT of PT provider p is provider PARTNER_OFFSET + p.
PARTNER_OFFSET = 60_000_000


def co_visits(
    rng: np.random.Generator,
    lines: pl.DataFrame,
    visits: pl.DataFrame,
    plan_frame: pl.DataFrame,
    rates: Rates,
    ends: pl.DataFrame,
) -> pl.DataFrame:
    """The OT lines of co-treated visits, with the columns `lines` has before pricing. `ends`:
    each visit's last minute, its unbilled services included."""
    clean_days = visits.filter(~pl.col("cap_day") & ~pl.col("book_day")).select("visit", "provider")
    clean_plans = plan_frame.group_by("patient_id").agg(
        ok=(pl.col("poc").is_null() & pl.col("discipline").is_not_null()).all()
    )
    per_visit = (
        lines.join(clean_days, on="visit", how="inner")
        .join(clean_plans.filter("ok"), on="patient_id", how="semi")
        .group_by("visit")
        .agg(
            ok=(pl.col("kind") == NORMAL).all()
            & pl.col("injection").is_null().all()
            & (pl.col("discipline") == "PT").all()
            & ~pl.col("is_eval").any(),
            provider=pl.col("provider").first(),
            line_number=pl.col("line_number")
            .filter(pl.col("procedure_code").is_in(OT_TIMED))
            .min(),
        )
        .filter(pl.col("ok") & pl.col("line_number").is_not_null())
        .join(ends, on="visit")
        .sort("visit")
    )
    draw = rng.random(per_visit.height)
    inflate = rng.random(per_visit.height) < rates.co_visit_inflate
    chosen = per_visit.with_columns(inflate=pl.Series(inflate, dtype=pl.Boolean)).filter(
        pl.lit(pl.Series(draw)) < CO_VISIT_RATE
    )
    pt = lines.join(
        chosen.select("visit", "line_number", "provider", "visit_end", "inflate"),
        on=["visit", "line_number"],
    )
    by = pl.when(pl.col("inflate")).then(pl.lit(1, dtype=pl.Int64))
    partner = npis(pt["provider"].to_numpy() + PARTNER_OFFSET)
    co = pt.with_columns(
        claim_id=pl.format("CO{}", pl.col("claim_id").str.slice(1)),
        line_number=pl.lit(1, dtype=pl.Int64),
        provider_npi=pl.Series(partner, dtype=pl.String),
        discipline=pl.lit("OT"),
        units=1 + by.fill_null(0),
        minutes=pl.lit(15, dtype=pl.Int64),
        start_min=pl.col("visit_end"),
        end_min=pl.col("visit_end") + 15,
        injection=pl.when(pl.col("inflate")).then(pl.lit("inflate")),
        variant=pl.lit(False),
        inflated_by=by,
    )
    return co.select(lines.columns).cast(lines.schema)


def ot_plans(plan_frame: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """OT copies of the plans of patients with an OT line of a PT visit (same windows and
    signatures): co-treated patients, and a PT's line billed under OT (flows/synth/billing.py)."""
    ot = lines.filter(
        pl.col("claim_id").str.starts_with("CO") | (pl.col("injection") == "go_by_pt")
    )
    return plan_frame.join(
        ot.select("patient_id").unique(), on="patient_id", how="semi"
    ).with_columns(discipline=pl.lit("OT"), plan_id=pl.format("{}-OT", pl.col("plan_id")))
