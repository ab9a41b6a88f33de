"""Variable appraisal against the RAT-STATS Companion Manual's Example 1, and its properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.sampling.money import round_cents, to_cents
from checks.sampling.rng import SamplingError
from checks.sampling.variable import SampleValues, appraise, appraise_series, combine_strata
from tests.checks.sampling.examples import EXAMPLE_1_UNIVERSE, example_1

SOURCE = "OIG RAT-STATS 2010 Companion Manual, Example 1 (N = 10,000, n = 50)"


def _example() -> SampleValues:
    examined, audited = example_1()
    return SampleValues(tuple(e * 100 for e in examined), tuple(a * 100 for a in audited))


def test_example_1_difference_series() -> None:
    d = appraise({"all": _example()}, {"all": EXAMPLE_1_UNIVERSE}).overall["difference"]
    assert f"{d.mean:.2f}" == "70.60", SOURCE
    assert f"{d.sd:.4f}" == "48.2519", SOURCE
    assert round(d.se_total) == 68_068, SOURCE
    assert d.point_estimate == 706_000.00, SOURCE
    limits = {round(i.confidence * 100): (round(i.lower), round(i.upper)) for i in d.intervals}
    assert limits == {
        80: (617_575, 794_425),
        90: (591_881, 820_119),
        95: (569_213, 842_787),
    }, SOURCE
    assert [f"{i.factor:.12f}" for i in d.intervals] == [
        "1.299068784748",
        "1.676550892617",
        "2.009575237129",
    ], SOURCE
    assert all(i.distribution == "t" and i.df == 49 for i in d.intervals)


def test_example_1_examined_and_audited_point_estimates() -> None:
    a = appraise({"all": _example()}, {"all": EXAMPLE_1_UNIVERSE})
    assert a.overall["examined"].point_estimate == 4_960_000.00, SOURCE
    assert a.overall["audited"].point_estimate == 4_254_000.00, SOURCE
    assert not a.stratified
    assert a.underpayments == 1  # 500 examined, 525 audited


def test_example_1_cents_are_independent_of_row_order() -> None:
    examined, audited = example_1()
    pairs = list(zip(examined, audited, strict=True))[::-1]
    values = SampleValues(tuple(e * 100 for e, _ in pairs), tuple(a * 100 for _, a in pairs))
    forward = appraise({"": _example()}, {"": EXAMPLE_1_UNIVERSE}).overall["difference"]
    backward = appraise({"": values}, {"": EXAMPLE_1_UNIVERSE}).overall["difference"]
    assert forward == backward


def test_moments_against_textbook_formulas() -> None:
    values = [12_345, 0, 99_999, 5_000, 5_001, 77_777]
    s = appraise_series(values, 1000)
    x = [v / 100 for v in values]
    n, mean = len(x), sum(x) / len(x)
    m2 = sum((v - mean) ** 2 for v in x) / n
    assert s.sd == pytest.approx(math.sqrt(m2 * n / (n - 1)), rel=1e-12)
    assert s.skewness == pytest.approx(sum((v - mean) ** 3 for v in x) / n / m2**1.5, rel=1e-12)
    assert s.kurtosis == pytest.approx(sum((v - mean) ** 4 for v in x) / n / m2**2, rel=1e-12)
    assert s.se_mean == pytest.approx(s.sd / math.sqrt(n) * math.sqrt((1000 - n) / 1000))


def test_inputs_and_outputs_round_to_cents_half_away_from_zero() -> None:
    assert to_cents("12.345") == 1235
    assert to_cents("-12.345") == -1235
    assert to_cents(" 7 ") == 700
    assert round_cents(0.125) == 0.13
    for bad in ("abc", "", "nan", "inf"):
        with pytest.raises(SamplingError):
            to_cents(bad)


def test_constant_series_has_no_shape_and_zero_spread() -> None:
    s = appraise_series([500] * 10, 100)
    assert s.sd == 0 and s.skewness is None and s.kurtosis is None
    assert all(i.lower == i.upper == s.point_estimate == 500.0 for i in s.intervals)


def test_precision_percent_is_zero_when_the_estimate_is_not_positive() -> None:
    s = appraise_series([-100, 50, -300], 10)
    assert s.point_estimate < 0
    assert all(i.precision_percent == 0.0 for i in s.intervals)


@pytest.mark.parametrize(
    ("samples", "sizes"),
    [
        ({"a": SampleValues((1, 2), (1, 1))}, {}),
        ({"a": SampleValues((1, 2), (1, 1))}, {"a": 1}),
        ({"a": SampleValues((1,), (1,))}, {"a": 5}),
        ({"a": SampleValues((1, 2), (1, 1))}, {"a": 5, "b": 5}),
        ({"a": SampleValues((1, 2), (1, 1))}, {"a": -5}),
    ],
)
def test_impossible_designs_are_errors(
    samples: dict[str, SampleValues], sizes: dict[str, int]
) -> None:
    with pytest.raises(SamplingError):
        appraise(samples, sizes)


cents = st.integers(min_value=-1_000_000, max_value=5_000_000)


@settings(max_examples=60, deadline=None)
@given(st.lists(cents, min_size=1, max_size=40))
def test_a_census_has_zero_standard_error(values: list[int]) -> None:
    s = appraise_series(values, len(values))
    assert s.se_mean == 0 and s.se_total == 0
    assert s.point_estimate == round_cents(sum(values) / 100)
    assert all(i.lower == i.upper == s.point_estimate for i in s.intervals)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(cents, min_size=2, max_size=15), st.integers(0, 500)),
        min_size=2,
        max_size=5,
    )
)
def test_stratified_total_is_the_sum_of_the_strata(strata: list[tuple[list[int], int]]) -> None:
    samples = {f"s{i}": SampleValues(tuple(v), (0,) * len(v)) for i, (v, _) in enumerate(strata)}
    sizes = {f"s{i}": len(v) + extra for i, (v, extra) in enumerate(strata)}
    a = appraise(samples, sizes)
    parts = [a.strata[name]["examined"] for name in samples]
    overall = a.overall["examined"]
    assert a.stratified
    # each stratum's estimate is rounded to cents, and so is the overall one (from the unrounded
    # figures): the two may differ by half a cent per stratum plus half a cent, and by a float's
    # spacing at millions of dollars
    rounding = 0.005 * (len(parts) + 1) + 1e-6
    assert overall.point_estimate == pytest.approx(
        sum(p.point_estimate for p in parts), abs=rounding
    )
    assert overall.se_total == pytest.approx(
        math.sqrt(sum(p.se_total**2 for p in parts)), abs=0.02 * len(parts)
    )
    assert overall.universe_size == sum(sizes.values())
    assert [i.distribution for i in overall.intervals] == ["z", "z", "z"]
    assert overall == combine_strata(parts)
