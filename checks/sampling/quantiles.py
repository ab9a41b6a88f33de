"""Normal and Student-t quantiles to 12 significant digits in the standard library alone: the t
tail is the regularized incomplete beta function (continued fraction), inverted by Newton's
method from a Cornish-Fisher start (Abramowitz & Stegun 26.5.8, 26.7.5, 26.2.23)."""

from __future__ import annotations

import math

_EPS = 1e-16
_TINY = 1e-300


def normal_upper_tail(z: float) -> float:
    """P(Z > z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _normal_pdf(z: float) -> float:
    return math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)


def normal_quantile(p: float) -> float:
    """z with P(Z <= z) = p: Abramowitz & Stegun 26.2.23 as a start, then Newton on erfc."""
    if not 0.0 < p < 1.0:
        raise ValueError("a probability strictly between 0 and 1 is needed")
    q = min(p, 1.0 - p)
    t = math.sqrt(-2.0 * math.log(q))
    z = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (
        1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t**3
    )
    for _ in range(50):
        step = (normal_upper_tail(z) - q) / _normal_pdf(z)
        z += step
        if abs(step) <= 1e-15 * max(1.0, abs(z)):
            break
    return z if p > 0.5 else -z


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz)."""
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > _TINY else _TINY)
    h = d
    for m in range(1, 100000):
        m2 = 2 * m
        for numerator in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > _TINY else _TINY)
            c = 1.0 + numerator / c
            c = c if abs(c) > _TINY else _TINY
            h *= d * c
        if abs(d * c - 1.0) < _EPS:
            break
    return h


def _stirling_error(x: float) -> float:
    """lgamma(x) - ((x - 0.5) ln x - x + ln(2 pi) / 2), by its asymptotic series (x >= 20)."""
    inv2 = 1.0 / (x * x)
    terms = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360)
    return sum(c * inv2**k for k, c in enumerate(terms)) / x


def log_gamma_ratio(a: float, b: float) -> float:
    """ln(Gamma(a + b) / Gamma(a)) without the cancellation of two large lgamma values."""
    if a < 20.0:
        return math.lgamma(a + b) - math.lgamma(a)
    return (
        (a - 0.5) * math.log1p(b / a)
        + b * math.log(a + b)
        - b
        + _stirling_error(a + b)
        - _stirling_error(a)
    )


def regularized_beta(a: float, b: float, x: float, y: float | None = None) -> float:
    """I_x(a, b), the regularized incomplete beta function; y = 1 - x when known exactly."""
    y = 1.0 - x if y is None else y
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    big, small = (a, b) if a >= b else (b, a)
    # the log of the larger of x and y from the other one: it is the exactly known small one
    log_x = math.log(x) if x < 0.5 else math.log1p(-y)
    log_y = math.log(y) if y < 0.5 else math.log1p(-x)
    log_front = log_gamma_ratio(big, small) - math.lgamma(small) + a * log_x + b * log_y
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_fraction(b, a, y) / b


def t_upper_tail(t: float, df: float) -> float:
    """P(T > t) for Student's t with df degrees of freedom, t >= 0."""
    # both x and 1 - x from their own quotients: 1 - x by subtraction loses digits for large df
    return 0.5 * regularized_beta(df / 2.0, 0.5, df / (df + t * t), t * t / (df + t * t))


def _t_pdf(t: float, df: float) -> float:
    log_c = log_gamma_ratio(df / 2.0, 0.5) - 0.5 * math.log(df * math.pi)
    return math.exp(log_c - (df + 1.0) / 2.0 * math.log1p(t * t / df))


def t_quantile(p: float, df: float) -> float:
    """t with P(T <= t) = p for Student's t with df > 0 degrees of freedom."""
    if not 0.0 < p < 1.0:
        raise ValueError("a probability strictly between 0 and 1 is needed")
    if df <= 0:
        raise ValueError("degrees of freedom must be positive")
    q = min(p, 1.0 - p)
    sign = 1.0 if p > 0.5 else -1.0
    if df == 1:
        return sign / math.tan(math.pi * q)
    if df == 2:
        return sign * (1.0 - 2.0 * q) / math.sqrt(2.0 * q * (1.0 - q))
    z = normal_quantile(1.0 - q)
    # Cornish-Fisher expansion (A&S 26.7.5) as the start: already close for moderate df
    g1 = (z**3 + z) / 4.0
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96.0
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384.0
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160.0
    t = z + g1 / df + g2 / df**2 + g3 / df**3 + g4 / df**4
    if df > 1e5:
        # the expansion's next term is below 1e-20 here, the continued fraction's rounding is not
        return sign * t
    if df < 3 or not math.isfinite(t) or t <= 0:
        t = max(z, 1.0)
    for _ in range(100):
        step = (t_upper_tail(t, df) - q) / _t_pdf(t, df)
        # a damped step keeps Newton inside the support when the start is far out
        t_new = t + step if t + step > 0 else t / 2.0
        if abs(t_new - t) <= 1e-15 * max(1.0, abs(t_new)):
            t = t_new
            break
        t = t_new
    return sign * t


def two_sided_t(confidence: float, df: float) -> float:
    """The t value of a two-sided interval at `confidence` (0.90 for 90 %)."""
    return t_quantile(1.0 - (1.0 - confidence) / 2.0, df)


def two_sided_z(confidence: float) -> float:
    """The normal value of a two-sided interval at `confidence` (0.90 for 90 %)."""
    return normal_quantile(1.0 - (1.0 - confidence) / 2.0)
