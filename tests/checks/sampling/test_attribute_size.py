"""Attribute appraisal (exact hypergeometric limits) and sample sizes."""

from __future__ import annotations

import math
from fractions import Fraction
from math import comb

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.sampling.attribute import appraise_attribute
from checks.sampling.rng import SamplingError
from checks.sampling.size import variable_sample_size


def _p_at_least(x: int, n: int, big_n: int, k: int) -> Fraction:
    total = sum(comb(k, j) * comb(big_n - k, n - j) for j in range(x, n + 1))
    return Fraction(total, comb(big_n, n))


@settings(max_examples=40, deadline=None)
@given(big_n=st.integers(2, 300), data=st.data())
def test_limits_are_the_defining_boundaries(big_n: int, data: st.DataObject) -> None:
    """Each limit satisfies its definition and the next K out does not (brute force)."""
    n = data.draw(st.integers(1, big_n))
    x = data.draw(st.integers(0, n))
    a = appraise_attribute(big_n, n, x)
    assert a.projected == big_n * x / n
    for lim in a.limits:
        alpha = 1 - Fraction(str(lim.confidence))
        tail = alpha if lim.sided != "two-sided" else alpha / 2
        if x > 0:
            assert _p_at_least(x, n, big_n, lim.lower) > tail
            assert lim.lower == x or _p_at_least(x, n, big_n, lim.lower - 1) <= tail
        if x < n:
            assert 1 - _p_at_least(x + 1, n, big_n, lim.upper) > tail
            assert lim.upper == big_n - (n - x) or (
                1 - _p_at_least(x + 1, n, big_n, lim.upper + 1) <= tail
            )
        # exact limits are whole numbers of errors: they bracket the projection to within one
        # unit (N=20, n=19, x=1: the projection 1.05 lies above an upper limit of 1)
        assert lim.lower <= math.ceil(big_n * x / n)
        assert math.floor(big_n * x / n) <= lim.upper


def test_one_sided_when_none_or_all_in_error() -> None:
    none = appraise_attribute(1000, 50, 0)
    assert all(lim.sided == "one-sided upper" and lim.lower == 0 for lim in none.limits)
    every = appraise_attribute(1000, 50, 50)
    assert all(lim.sided == "one-sided lower" and lim.upper == 1000 for lim in every.limits)


def test_against_scipy_hypergeometric() -> None:
    stats = pytest.importorskip("scipy.stats")
    a = appraise_attribute(10_000, 100, 5)
    lim = a.limits[1]  # 90 %, tail 0.05 each side
    assert stats.hypergeom.sf(4, 10_000, lim.lower, 100) > 0.05
    assert stats.hypergeom.sf(4, 10_000, lim.lower - 1, 100) <= 0.05
    assert stats.hypergeom.cdf(5, 10_000, lim.upper, 100) > 0.05
    assert stats.hypergeom.cdf(5, 10_000, lim.upper + 1, 100) <= 0.05


@pytest.mark.parametrize(("big_n", "n", "x"), [(0, 1, 0), (10, 0, 0), (10, 11, 1), (10, 5, 6)])
def test_impossible_attribute_inputs(big_n: int, n: int, x: int) -> None:
    with pytest.raises(SamplingError):
        appraise_attribute(big_n, n, x)


def test_sample_size_formula() -> None:
    s = variable_sample_size(70.6, 48.25, 10_000, 25, 90)
    z = 1.6448536269514724
    e = 0.25 * 70.6 * 10_000
    assert s.z == pytest.approx(z, rel=1e-13)
    assert s.sample_size == round((48.25 * 10_000) ** 2 / ((e / z) ** 2 + 10_000 * 48.25**2))
    assert s.warnings  # under 30 units


def test_sample_size_never_exceeds_the_universe_and_grows_with_confidence() -> None:
    sizes = [variable_sample_size(100, 400, 500, 5, c).sample_size for c in (80, 90, 95, 99)]
    assert sizes == sorted(sizes) and sizes[-1] <= 500


def test_expected_error_rate_variant() -> None:
    m, sd, r = 496.0, 296.9, 0.10
    s = variable_sample_size(m, sd, 10_000, 10, 90, error_rate_percent=10)
    assert s.mean == pytest.approx(r * m)
    assert s.sd == pytest.approx(math.sqrt(r * (sd**2 + m**2) - (r * m) ** 2))
    plain = variable_sample_size(s.mean, s.sd, 10_000, 10, 90)
    assert s.sample_size == plain.sample_size


@pytest.mark.parametrize(
    "kwargs",
    [
        {"universe_size": 0},
        {"sd": -1.0},
        {"precision_percent": 0.0},
        {"confidence_percent": 100.0},
        {"mean": 0.0},
        {"error_rate_percent": 0.0},
    ],
)
def test_bad_size_inputs(kwargs: dict[str, float]) -> None:
    args: dict[str, float] = {
        "mean": 100.0,
        "sd": 50.0,
        "universe_size": 1000,
        "precision_percent": 10.0,
        "confidence_percent": 90.0,
    }
    args.update(kwargs)
    with pytest.raises(SamplingError):
        variable_sample_size(**args)  # type: ignore[arg-type]
