"""RAT-STATS variable appraisal: mean, SD, skewness, kurtosis, standard errors, point estimate and
two-sided limits at 80/90/95 % of an unrestricted or stratified sample of dollar values (OIG
RAT-STATS 2010 User Guide and Companion Manual, variable appraisal; difference estimator)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from checks.sampling.money import round_cents
from checks.sampling.quantiles import two_sided_t, two_sided_z
from checks.sampling.rng import SamplingError

CONFIDENCES = (0.80, 0.90, 0.95)


@dataclass(frozen=True)
class Interval:
    """Two-sided limits at one confidence level and the t (or z) value they used."""

    confidence: float
    distribution: str  # "t" with df = n - 1, or "z" for a stratified overall
    df: int | None
    factor: float
    lower: float
    upper: float
    precision: float
    precision_percent: float


@dataclass(frozen=True)
class SeriesAppraisal:
    """One series (examined, audited or difference) of one stratum or of the whole sample."""

    universe_size: int
    sample_size: int
    sample_total: float
    mean: float
    sd: float | None
    skewness: float | None
    kurtosis: float | None
    se_mean: float
    se_total: float
    point_estimate: float
    intervals: tuple[Interval, ...]

    def interval(self, confidence: float) -> Interval:
        return next(i for i in self.intervals if math.isclose(i.confidence, confidence))


def _intervals(
    point_estimate: float, se_total: float, factors: Sequence[tuple[float, float]], df: int | None
) -> tuple[Interval, ...]:
    out = []
    for confidence, factor in factors:
        precision = factor * se_total
        out.append(
            Interval(
                confidence=confidence,
                distribution="z" if df is None else "t",
                df=df,
                factor=factor,
                lower=round_cents(point_estimate - precision),
                upper=round_cents(point_estimate + precision),
                precision=round_cents(precision),
                precision_percent=100.0 * precision / point_estimate if point_estimate > 0 else 0.0,
            )
        )
    return tuple(out)


def appraise_series(cents: Sequence[int], universe_size: int) -> SeriesAppraisal:
    """Appraise sampled values given in whole cents from a universe of `universe_size` units.

    Moments are exact (integer power sums as fractions) until the last square root, so the
    figures do not depend on the order of the rows.
    """
    n, big_n = len(cents), universe_size
    if n < 1:
        raise SamplingError("the sample is empty")
    if big_n < n:
        raise SamplingError(f"the universe ({big_n}) is smaller than the sample ({n})")
    s1 = sum(cents)
    s2 = sum(c * c for c in cents)
    mean = Fraction(s1, n)
    m2 = s2 - mean * s1  # sum of squared deviations, in cents squared
    census = n == big_n
    if n < 2 and not census:
        raise SamplingError("one sampled unit has no standard deviation: sample at least two")
    sd = math.sqrt(m2 / (n - 1)) / 100 if n > 1 else None
    skewness = kurtosis = None
    if m2 > 0:
        s3 = sum(c**3 for c in cents)
        s4 = sum(c**4 for c in cents)
        m3 = s3 - 3 * mean * s2 + 2 * n * mean**3
        m4 = s4 - 4 * mean * s3 + 6 * mean**2 * s2 - 3 * n * mean**4
        skewness = float(m3 / n) / float(m2 / n) ** 1.5
        kurtosis = float((m4 / n) / (m2 / n) ** 2)
    var_mean = Fraction(0) if census else m2 / (n * (n - 1)) * Fraction(big_n - n, big_n)
    se_mean = math.sqrt(var_mean) / 100
    se_total = big_n * se_mean
    point_estimate = float(big_n * mean / 100)
    factors = [(c, two_sided_t(c, n - 1) if n > 1 else 0.0) for c in CONFIDENCES]
    return SeriesAppraisal(
        universe_size=big_n,
        sample_size=n,
        sample_total=s1 / 100,
        mean=float(mean / 100),
        sd=sd,
        skewness=skewness,
        kurtosis=kurtosis,
        se_mean=se_mean,
        se_total=round_cents(se_total),
        point_estimate=round_cents(point_estimate),
        intervals=_intervals(point_estimate, se_total, factors, max(n - 1, 0)),
    )


def combine_strata(strata: Sequence[SeriesAppraisal]) -> SeriesAppraisal:
    """The overall figures of a stratified sample: PE = sum of the strata's, SE = root of the sum
    of their squares, limits with the normal z (RAT-STATS's convention for the overall)."""
    if not strata:
        raise SamplingError("no strata")
    big_n = sum(s.universe_size for s in strata)
    # the unrounded per-stratum figures: rebuilt from mean and SE, which are not rounded
    point_estimate = math.fsum(s.universe_size * s.mean for s in strata)
    se_total = math.sqrt(math.fsum((s.universe_size * s.se_mean) ** 2 for s in strata))
    factors = [(c, two_sided_z(c)) for c in CONFIDENCES]
    return SeriesAppraisal(
        universe_size=big_n,
        sample_size=sum(s.sample_size for s in strata),
        sample_total=round_cents(math.fsum(s.sample_total for s in strata)),
        mean=point_estimate / big_n,
        sd=None,
        skewness=None,
        kurtosis=None,
        se_mean=se_total / big_n,
        se_total=round_cents(se_total),
        point_estimate=round_cents(point_estimate),
        intervals=_intervals(point_estimate, se_total, factors, None),
    )


SERIES = ("examined", "audited", "difference")


@dataclass(frozen=True)
class SampleValues:
    """The reviewed sample of one stratum, in whole cents."""

    examined: tuple[int, ...]
    audited: tuple[int, ...]

    @property
    def difference(self) -> tuple[int, ...]:
        return tuple(e - a for e, a in zip(self.examined, self.audited, strict=True))

    @property
    def overpayment(self) -> tuple[int, ...]:
        """Differences with underpayments counted as zero: no netting."""
        return tuple(max(d, 0) for d in self.difference)


@dataclass(frozen=True)
class Appraisal:
    """Every series per stratum and overall (for one stratum the overall is that stratum)."""

    strata: Mapping[str, Mapping[str, SeriesAppraisal]]
    overall: Mapping[str, SeriesAppraisal]
    stratified: bool
    underpayments: int


def appraise(samples: Mapping[str, SampleValues], universe_sizes: Mapping[str, int]) -> Appraisal:
    """Appraise examined, audited, difference (and overpayment, no netting) per stratum; one
    stratum is an unrestricted sample, several a stratified one."""
    unknown = sorted(set(samples) - set(universe_sizes))
    if unknown:
        raise SamplingError(f"no universe size for stratum '{unknown[0]}'")
    for name, size in universe_sizes.items():
        if size < 1:
            raise SamplingError(f"the universe size of stratum '{name}' must be at least 1")
    empty = sorted(set(universe_sizes) - set(samples))
    if empty:
        raise SamplingError(f"stratum '{empty[0]}' has a universe size but no sampled unit")
    per: dict[str, dict[str, SeriesAppraisal]] = {}
    for name in sorted(samples):
        values = samples[name]
        try:
            per[name] = {
                series: appraise_series(getattr(values, series), universe_sizes[name])
                for series in (*SERIES, "overpayment")
            }
        except SamplingError as err:
            raise SamplingError(f"stratum '{name}': {err}") from None
    stratified = len(per) > 1
    if stratified:
        overall = {
            series: combine_strata([per[name][series] for name in per])
            for series in (*SERIES, "overpayment")
        }
    else:
        overall = next(iter(per.values()))
    underpayments = sum(1 for v in samples.values() for d in v.difference if d < 0)
    return Appraisal(per, overall, stratified, underpayments)
