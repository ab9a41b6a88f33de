"""RAT-STATS attribute appraisal: the projected number of units in error and its exact
hypergeometric limits (OIG RAT-STATS 2010 User Guide, attribute appraisal, unrestricted)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from math import comb

from checks.sampling.rng import SamplingError
from checks.sampling.variable import CONFIDENCES


@dataclass(frozen=True)
class AttributeLimits:
    """Limits on the number of units in error in the universe at one confidence level."""

    confidence: float
    sided: str  # "two-sided", "one-sided lower" (all in error) or "one-sided upper" (none)
    lower: int
    upper: int
    lower_rate: float
    upper_rate: float


@dataclass(frozen=True)
class AttributeAppraisal:
    universe_size: int
    sample_size: int
    errors: int
    rate: float
    projected: float
    limits: tuple[AttributeLimits, ...]


def _tail_at_least(x: int, n: int, big_n: int, k: int) -> Fraction:
    """P(X >= x) when k of big_n units are in error and n are drawn, exactly."""
    lo, hi = max(0, n - (big_n - k)), min(n, k)
    if x <= lo:
        return Fraction(1)
    if x > hi:
        return Fraction(0)
    # the shorter of the two sums: the tail itself or one minus its complement
    if hi - x < x - lo:
        part = sum(comb(k, j) * comb(big_n - k, n - j) for j in range(x, hi + 1))
        return Fraction(part, comb(big_n, n))
    part = sum(comb(k, j) * comb(big_n - k, n - j) for j in range(lo, x))
    return 1 - Fraction(part, comb(big_n, n))


def _smallest(lo: int, hi: int, ok: Callable[[int], bool]) -> int:
    """The smallest K in lo..hi with ok(K) true, ok monotone false -> true; hi when none is."""
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _lower(x: int, n: int, big_n: int, tail: Fraction) -> int:
    """The smallest K with P(X >= x | K) > tail (increasing in K)."""
    if x == 0:
        return 0
    return _smallest(x, big_n - (n - x), lambda k: _tail_at_least(x, n, big_n, k) > tail)


def _upper(x: int, n: int, big_n: int, tail: Fraction) -> int:
    """The largest K with P(X <= x | K) > tail (decreasing in K)."""
    if x == n:
        return big_n
    top = big_n - (n - x)
    first_fail = _smallest(
        x, top + 1, lambda k: k > top or 1 - _tail_at_least(x + 1, n, big_n, k) <= tail
    )
    return first_fail - 1


def appraise_attribute(universe_size: int, sample_size: int, errors: int) -> AttributeAppraisal:
    """Projected errors N*x/n and exact limits; tail (1 - CL)/2 on each side, or 1 - CL on the
    one side there is when no unit or every unit sampled is in error."""
    big_n, n, x = universe_size, sample_size, errors
    if n < 1 or big_n < 1 or x < 0:
        raise SamplingError("the universe and sample sizes must be at least 1, errors at least 0")
    if n > big_n:
        raise SamplingError(f"the sample ({n}) is larger than the universe ({big_n})")
    if x > n:
        raise SamplingError(f"more errors ({x}) than sampled units ({n})")
    limits = []
    for confidence in CONFIDENCES:
        alpha = 1 - Fraction(str(confidence))
        if x == 0:
            sided, lower, upper = "one-sided upper", 0, _upper(x, n, big_n, alpha)
        elif x == n:
            sided, lower, upper = "one-sided lower", _lower(x, n, big_n, alpha), big_n
        else:
            sided = "two-sided"
            lower, upper = _lower(x, n, big_n, alpha / 2), _upper(x, n, big_n, alpha / 2)
        limits.append(
            AttributeLimits(confidence, sided, lower, upper, lower / big_n, upper / big_n)
        )
    return AttributeAppraisal(big_n, n, x, x / n, big_n * x / n, tuple(limits))
