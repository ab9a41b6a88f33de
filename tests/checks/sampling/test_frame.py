"""The sampling frame, its strata, the per-stratum RAT-STATS draw and the worksheet pre-fill."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.sampling.frame import (
    allocate,
    draw_strata,
    drawn_rows,
    frame_units,
    parse_bounds,
    prefill,
    stratify,
    unit_lines,
)
from checks.sampling.rng import SamplingError, random_numbers

D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
# (claim_id, line_number, patient_id, service_date, paid_amount)
CLAIMS = [
    ("C2", 1, "P1", D1, 40.0),
    ("C1", 2, "P2", D2, 30.004),  # rounded to cents line by line
    ("C1", 1, "P2", D2, 70.0),
    ("C10", 1, "P1", D1, 0.0),  # not paid: outside the universe
    ("C3", 1, "P1", D2, None),  # a blank paid amount counts as 0
    ("C3", 2, "P1", D2, 150.0),
]


def _claims() -> pl.LazyFrame:
    return pl.DataFrame(
        CLAIMS,
        schema={
            "claim_id": pl.String,
            "line_number": pl.Int64,
            "patient_id": pl.String,
            "service_date": pl.Date,
            "paid_amount": pl.Float64,
        },
        orient="row",
    ).lazy()


def _frame(unit: str, bounds: tuple[int, ...] = ()) -> pl.DataFrame:
    lines = unit_lines(_claims(), unit)
    return stratify(frame_units(lines, unit), bounds, unit).collect()


@pytest.mark.parametrize(
    ("unit", "ids", "cents"),
    [
        ("line", ["C1:1", "C1:2", "C2:1", "C3:2"], [7000, 3000, 4000, 15000]),
        ("claim", ["C1", "C2", "C3"], [10000, 4000, 15000]),
        ("patient-day", ["P1:2026-03-02", "P1:2026-03-03", "P2:2026-03-03"], [4000, 15000, 10000]),
    ],
)
def test_frame_order_units_and_amounts(unit: str, ids: list[str], cents: list[int]) -> None:
    frame = _frame(unit)
    assert frame["unit_id"].to_list() == ids  # text order of ids, numeric order of lines
    assert frame["examined_cents"].to_list() == cents
    assert frame["frame_number"].to_list() == list(range(1, len(ids) + 1))
    assert set(frame["stratum"]) == {"all"}


def test_strata_by_paid_amount_number_each_stratum_from_1() -> None:
    frame = _frame("line", parse_bounds("40,100"))
    assert frame.select("stratum", "stratum_frame_number", "unit_id").rows() == [
        ("1", 1, "C1:2"),  # 30.00: up to 40
        ("1", 2, "C2:1"),  # 40.00 is in the stratum it bounds
        ("2", 1, "C1:1"),
        ("3", 1, "C3:2"),
    ]
    assert frame["frame_number"].to_list() == [1, 2, 3, 4]


@pytest.mark.parametrize("text", ["", "abc", "100,50", "0,10", "-5", "10,10"])
def test_bad_bounds(text: str) -> None:
    with pytest.raises(SamplingError):
        parse_bounds(text)


def test_unknown_unit() -> None:
    with pytest.raises(SamplingError, match="unknown sampling unit"):
        unit_lines(_claims(), "visit")


def test_allocation() -> None:
    assert allocate({"1": 700, "2": 200, "3": 100}, 10) == {"1": 7, "2": 2, "3": 1}
    assert allocate({"1": 990, "2": 10}, 50) == {"1": 49, "2": 1}  # at least one each
    assert allocate({"1": 5, "2": 5}, (2, 3)) == {"1": 2, "2": 3}
    with pytest.raises(SamplingError):
        allocate({"1": 5, "2": 5}, (2,))
    with pytest.raises(SamplingError):
        allocate({"1": 5, "2": 5, "3": 5}, 2)


def test_each_stratum_is_the_rat_stats_draw_with_its_seed() -> None:
    draws = draw_strata({"1": 1000, "2": 50}, {"1": 10, "2": 5}, 12345.0, 4)
    # stratum 1: the RAT-STATS 2010 Companion Manual example (seed 12345, frame 1-1000)
    assert sorted(draws[0].selection_order) == [9, 236, 337, 340, 346, 497, 556, 641, 658, 884]
    assert draws[0].spare_order == (404, 624, 927, 947)
    expected = random_numbers(12346.0, 50, 5, 4)
    assert draws[1].selection_order == expected.selection_order
    rows = drawn_rows(draws)
    assert rows.filter(pl.col("role") == "sample").height == 15
    spares = rows.filter(pl.col("role") == "spare", pl.col("stratum") == "1")
    assert spares["selection_order"].to_list() == [11, 12, 13, 14]
    assert spares["stratum_frame_number"].to_list() == [404, 624, 927, 947]


def test_sample_plus_spares_larger_than_a_stratum() -> None:
    with pytest.raises(SamplingError, match="exceed"):
        draw_strata({"1": 10}, {"1": 9}, 1.0, 2)


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 1e6, allow_nan=False), st.integers(1, 400), st.data())
def test_same_seed_same_sample_and_matches_sample_numbers(
    seed: float, size: int, data: st.DataObject
) -> None:
    n = data.draw(st.integers(1, size))
    first = draw_strata({"all": size}, {"all": n}, seed, 0)[0]
    again = draw_strata({"all": size}, {"all": n}, seed, 0)[0]
    assert first == again
    assert first.selection_order == random_numbers(seed, size, n).selection_order


def _findings(rows: list[tuple[str, int, str, float, str]]) -> pl.LazyFrame:
    return pl.DataFrame(
        rows,
        schema={
            "claim_id": pl.String,
            "line_number": pl.Int64,
            "rule_id": pl.String,
            "amount_at_risk": pl.Float64,
            "evidence": pl.String,
        },
        orient="row",
    ).lazy()


def test_prefill_counts_each_line_once_at_its_largest_amount() -> None:
    lines = unit_lines(_claims(), "claim")
    frame = stratify(frame_units(lines, "claim"), (), "claim")
    findings = _findings(
        [
            ("C1", 1, "UNITS-MUE", 20.0, "MUE=4"),
            ("C1", 1, "OVERLAP-TIMED", 50.0, "overlap"),  # same line: the larger amount only
            ("C1", 2, "UNITS-MUE", 10.0, "MUE=2"),
            ("C2", 1, "NOTE-MISSING", 400.0, "no note"),  # more than paid: audited stays 0
        ]
    )
    out = prefill(frame, lines, findings).collect().sort("frame_number")
    assert out["at_risk_cents"].to_list() == [6000, 40000, 0]
    assert out["audited_cents"].to_list() == [4000, 0, 15000]
    assert out["findings"].to_list() == ["OVERLAP-TIMED; UNITS-MUE", "NOTE-MISSING", ""]
    assert out["evidence"][0] == (
        "OVERLAP-TIMED C1:1: overlap; UNITS-MUE C1:1: MUE=4; UNITS-MUE C1:2: MUE=2"
    )
