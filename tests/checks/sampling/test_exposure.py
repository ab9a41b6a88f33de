"""The exposure the findings imply: universe of paid claims, their differences, and the expected
point estimate and one-sided 90 % lower limit of a random sample of claims."""

from __future__ import annotations

import datetime as dt
import math
import statistics

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.sampling.exposure import (
    ClaimTotals,
    claim_differences,
    claim_totals,
    differences_by_claim,
    expected_exposure,
)
from checks.sampling.frame import frame_units, prefill, unit_lines
from checks.sampling.quantiles import two_sided_t

DAY = dt.date(2026, 3, 2)


def _lines(paid: list[float | None]) -> pl.LazyFrame:
    return pl.DataFrame(
        {
            "claim_id": [f"C{i}" for i in range(len(paid))],
            "line_number": [1] * len(paid),
            "patient_id": ["P1"] * len(paid),
            "service_date": [DAY] * len(paid),
            "paid_amount": paid,
        }
    ).lazy()


def _findings(rows: list[tuple[str, float]]) -> pl.LazyFrame:
    return pl.DataFrame(
        {
            "claim_id": [c for c, _ in rows],
            "line_number": [1] * len(rows),
            "rule_id": ["UNITS-MUE"] * len(rows),
            "amount_at_risk": [a for _, a in rows],
            "evidence": ["MUE=4"] * len(rows),
        }
    ).lazy()


def test_universe_differences_and_expected_limits() -> None:
    paid = [100.0, 50.0, 80.0, 0.0, None, 20.0]  # C3 and C4 are not paid: outside the universe
    findings = [("C0", 30.0), ("C1", 70.0), ("C3", 10.0), ("C0", 10.0)]  # C1 capped at 50
    e = expected_exposure(_lines(paid), _findings(findings), sample_size=3)
    assert e is not None
    assert (e.universe_claims, e.paid_total, e.at_risk_total) == (4, 250.0, 80.0)
    assert (e.claims_in_error, e.error_rate, e.dollar_error_rate) == (2, 0.5, 80 / 250)
    sd = statistics.stdev([30.0, 50.0, 0.0, 0.0])
    se = 4 * sd / math.sqrt(3) * math.sqrt(1 / 4)
    assert e.point_estimate == 80.0 and e.se_total == pytest.approx(se, abs=0.005)
    assert e.t == two_sided_t(0.80, 2)
    assert e.lower_limit_one_sided_90 == pytest.approx(80.0 - e.t * se, abs=0.01)


def test_a_census_has_no_sampling_error() -> None:
    e = expected_exposure(_lines([10.0, 20.0]), _findings([("C1", 5.0)]))
    assert e is not None and e.sample_size == 2
    assert e.se_total == 0.0 and e.lower_limit_one_sided_90 == e.point_estimate == 5.0


def test_nothing_paid() -> None:
    assert expected_exposure(_lines([0.0]), _findings([])) is None


@st.composite
def _claims_and_findings(draw: st.DrawFn) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    lines = draw(
        st.lists(
            st.tuples(
                st.integers(0, 5),
                st.integers(1, 3),
                st.one_of(st.none(), st.sampled_from([0.0, 12.34, 50.0, 99.99])),
            ),
            min_size=1,
            max_size=12,
            unique_by=lambda t: (t[0], t[1]),
        )
    )
    keys = [(f"C{c}", n) for c, n, _ in lines]
    findings = draw(
        st.lists(
            st.tuples(st.sampled_from([*keys, ("C9", 1)]), st.sampled_from([0.0, 5.5, 60.0])),
            max_size=10,
        )
    )
    claims = pl.DataFrame(
        {
            "claim_id": [c for c, _ in keys],
            "line_number": [n for _, n in keys],
            "patient_id": ["P1"] * len(keys),
            "service_date": [DAY] * len(keys),
            "paid_amount": [p for _, _, p in lines],
        }
    ).lazy()
    found = pl.DataFrame(
        {
            "claim_id": [k[0] for k, _ in findings],
            "line_number": [k[1] for k, _ in findings],
            "rule_id": ["UNITS-MUE"] * len(findings),
            "amount_at_risk": [a for _, a in findings],
            "evidence": ["MUE=4"] * len(findings),
        },
        schema_overrides={"line_number": pl.Int64, "amount_at_risk": pl.Float64},
    ).lazy()
    return claims, found


@settings(max_examples=60, deadline=None)
@given(_claims_and_findings())
def test_differences_are_the_census_worksheet(data: tuple[pl.LazyFrame, pl.LazyFrame]) -> None:
    """The exposure's per-claim differences are exactly what the review worksheet would prefill
    for a census of the claim frame: examined less audited amount, claim by claim."""
    claims, found = data
    per_line = unit_lines(claims, "claim")
    sheet = prefill(frame_units(per_line, "claim"), per_line, found).select(
        pl.col("examined_cents").alias("paid"),
        (pl.col("examined_cents") - pl.col("audited_cents")).alias("d"),
    )
    ours = claim_differences(claims, found)
    assert sorted(ours.collect().rows()) == sorted(sheet.collect().rows())


@settings(max_examples=60, deadline=None)
@given(_claims_and_findings(), st.integers(1, 4))
def test_totals_add_up_over_claim_shards(
    data: tuple[pl.LazyFrame, pl.LazyFrame], shards: int
) -> None:
    """A partitioned run's way (flows/scale/exposure.py): the claims' paid amounts in pieces
    (here a row per line) and the findings, a shard of claim ids at a time, add up to the
    totals over every line at once, when the findings flag lines of the claims (as an audit's
    do: they are assembled from its lines)."""
    claims, found = data
    found = found.with_columns(pl.col("claim_id").cast(pl.String))
    found = found.join(claims, on=["claim_id", "line_number"], how="semi")
    whole = claim_totals(claim_differences(claims, found))
    paid = unit_lines(claims, "claim").select("claim_id", "paid")
    shard = pl.col("claim_id").hash(seed=7) % shards
    parts = [
        claim_totals(differences_by_claim(paid.filter(shard == j), found.filter(shard == j)))
        for j in range(shards)
    ]
    assert sum(parts, ClaimTotals()) == whole


def test_the_sum_of_squares_is_exact_beyond_int64() -> None:
    """Two claims paid $40 million each, wholly at risk: the squares of their differences in
    cents (1.6e19 each) pass Int64's range; the totals stay exact."""
    e = expected_exposure(
        _lines([4e7, 4e7, 0.5]), _findings([("C0", 4e7), ("C1", 4e7)]), sample_size=2
    )
    big = 4 * 10**9
    assert claim_totals(claim_differences(_lines([4e7, 4e7]), _findings([("C0", 4e7)]))) == (
        ClaimTotals(claims=2, paid=2 * big, d=big, d_squared=big * big, errors=1)
    )
    assert e is not None
    se = 3 * statistics.stdev([4e7, 4e7, 0.0]) / math.sqrt(2) * math.sqrt(1 / 3)
    assert e.point_estimate == 8e7 and e.se_total == pytest.approx(se, abs=0.005)
