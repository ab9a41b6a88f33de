"""RAT-STATS variable sample size from a probe sample's mean and SD, and its expected-error-rate
variant (OIG RAT-STATS 2010 User Guide, "Variable Sample Size Determination")."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from checks.sampling.quantiles import two_sided_z
from checks.sampling.rng import SamplingError

SMALL_SAMPLE = 30


@dataclass(frozen=True)
class SampleSize:
    sample_size: int
    universe_size: int
    mean: float
    sd: float
    precision_percent: float
    confidence_percent: float
    z: float
    precision_amount: float  # E, the precision in dollars over the universe
    error_rate_percent: float | None
    warnings: tuple[str, ...]


def variable_sample_size(
    mean: float,
    sd: float,
    universe_size: int,
    precision_percent: float,
    confidence_percent: float,
    error_rate_percent: float | None = None,
) -> SampleSize:
    """n = (SD N)^2 / ((E/Z)^2 + N SD^2), E = precision % x mean x N, rounded to nearest.

    With an expected error rate r of reported values (mean m, SD s) the differences have mean
    r m and SD sqrt(r (s^2 + m^2) - (r m)^2), and those are sized instead.
    """
    if universe_size < 1:
        raise SamplingError("the universe size must be at least 1")
    if sd < 0:
        raise SamplingError("the standard deviation cannot be negative")
    if not 0 < precision_percent <= 100:
        raise SamplingError("the precision must be a percentage above 0 and at most 100")
    if not 0 < confidence_percent < 100:
        raise SamplingError("the confidence must be a percentage between 0 and 100")
    if error_rate_percent is not None:
        if not 0 < error_rate_percent <= 100:
            raise SamplingError("the error rate must be a percentage above 0 and at most 100")
        rate = error_rate_percent / 100
        variance = rate * (sd * sd + mean * mean) - (rate * mean) ** 2
        mean, sd = rate * mean, math.sqrt(max(variance, 0.0))
    if mean <= 0:
        raise SamplingError("the mean must be above 0 (the precision is a share of it)")
    big_n = universe_size
    z = two_sided_z(confidence_percent / 100)
    e = precision_percent / 100 * mean * big_n
    exact = (sd * big_n) ** 2 / ((e / z) ** 2 + big_n * sd * sd)
    n = int(Decimal(repr(exact)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    warnings = []
    if n < SMALL_SAMPLE:
        warnings.append(f"a sample under {SMALL_SAMPLE} units is too small to rely on the t limits")
    return SampleSize(
        n, big_n, mean, sd, precision_percent, confidence_percent, z, e, error_rate_percent,
        tuple(warnings),
    )  # fmt: skip
