"""Student-t and normal quantiles: published table values, closed forms and, where SciPy is
installed, agreement to 12 significant digits over a grid."""

from __future__ import annotations

import math

import pytest

from checks.sampling.quantiles import normal_quantile, t_quantile, two_sided_t, two_sided_z

# NIST/SEMATECH e-Handbook of Statistical Methods §1.3.6.7.2, critical values of Student's t
T_TABLE = [
    (0.975, 1, 12.706),
    (0.95, 1, 6.314),
    (0.90, 5, 1.476),
    (0.95, 5, 2.015),
    (0.975, 10, 2.228),
    (0.995, 20, 2.845),
    (0.90, 30, 1.310),
    (0.975, 100, 1.984),
]


@pytest.mark.parametrize(("p", "df", "value"), T_TABLE)
def test_published_t_table(p: float, df: int, value: float) -> None:
    assert round(t_quantile(p, df), 3) == value


def test_companion_manual_t_values_df_49() -> None:
    # OIG RAT-STATS 2010 Companion Manual, Example 1: t (df 49) at 80 / 90 / 95 %
    assert f"{two_sided_t(0.80, 49):.12f}" == "1.299068784748"
    assert f"{two_sided_t(0.90, 49):.12f}" == "1.676550892617"
    assert f"{two_sided_t(0.95, 49):.12f}" == "2.009575237129"


def test_normal_values_of_the_stratified_overall() -> None:
    assert f"{two_sided_z(0.80):.12f}" == "1.281551565545"
    assert f"{two_sided_z(0.90):.12f}" == "1.644853626951"
    assert f"{two_sided_z(0.95):.12f}" == "1.959963984540"


@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.999])
def test_closed_forms_df_1_2_4(p: float) -> None:
    assert math.isclose(t_quantile(p, 1), math.tan(math.pi * (p - 0.5)), rel_tol=1e-13)
    assert math.isclose(t_quantile(p, 2), (2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel_tol=1e-13)
    # df = 4: t = sign * 2 sqrt(q - 1), q = cos(acos(sqrt(a)) / 3) / sqrt(a), a = 4p(1-p)
    a = 4 * p * (1 - p)
    q = math.cos(math.acos(math.sqrt(a)) / 3) / math.sqrt(a)
    assert math.isclose(t_quantile(p, 4), 2 * math.sqrt(q - 1), rel_tol=1e-12)


def test_symmetry_and_domain() -> None:
    assert t_quantile(0.1, 7) == pytest.approx(-t_quantile(0.9, 7), rel=1e-14)
    assert normal_quantile(0.025) == pytest.approx(-normal_quantile(0.975), rel=1e-14)
    with pytest.raises(ValueError):
        t_quantile(1.0, 5)
    with pytest.raises(ValueError):
        t_quantile(0.5, 0)


def test_twelve_significant_digits_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    worst = 0.0
    for df in (1, 2, 3, 4, 5, 7, 10, 19, 20, 21, 29, 30, 49, 99, 500, 9999, 10**5, 10**6):
        for p in (0.55, 0.75, 0.9, 0.95, 0.975, 0.995, 0.9995, 0.999999, 0.1, 0.025):
            ref = float(stats.t.ppf(p, df))
            worst = max(worst, abs(t_quantile(p, df) - ref) / abs(ref))
    assert worst < 5e-13
    for p in (1e-10, 1e-4, 0.1, 0.45, 0.8, 0.975, 1 - 1e-9):
        ref = float(stats.norm.ppf(p))
        assert abs(normal_quantile(p) - ref) <= 1e-13 * abs(ref)
