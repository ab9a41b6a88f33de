"""Properties of UNITS-8MIN under the CMS total-time method (CMS Pub. 100-04 Ch. 5 §20.2), over
random days of timed services; the truth tables are in test_units.py."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.checks.rules.test_units import _day
from tests.support.rulekit import excess, make_data, note, run_rule

CODES = ["97110", "97112", "97140"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 70), st.integers(1, 6)), min_size=1, max_size=3))
def test_cms_flags_only_what_no_allocation_supports(items: list[tuple[int, int]]) -> None:
    """Supported units form a valid CMS allocation (each code within min(billed, cap), the day
    within N) that supports as many units as any valid allocation could."""
    day = _day(*[(CODES[i], m, b) for i, (m, b) in enumerate(items)])
    out = run_rule("UNITS-8MIN", make_data(day["claims"], day["notes"]))
    excess = dict(zip(out["line_number"], out["excess_units"], strict=True))
    total = sum(m for m, _ in items)
    n = 0 if total < 8 else (total + 7) // 15
    supported = []
    for i, (m, b) in enumerate(items):
        cap = m // 15 + 1 if m > 0 else 0
        s = b - excess.get(i + 1, 0)
        assert 0 <= s <= min(b, cap)
        supported.append(s)
    best = min(n, sum(min(b, m // 15 + 1 if m > 0 else 0) for m, b in items))
    assert sum(supported) == best


UNBILLED_CODES = ["97116", "97530", "97535"]


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 70), st.integers(1, 6)), min_size=1, max_size=3),
    st.lists(st.integers(0, 30), min_size=1, max_size=3),
    st.sampled_from([None, "PT"]),
)
def test_unbilled_documented_minutes_never_add_a_finding(
    items: list[tuple[int, int]], unbilled: list[int], discipline: str | None
) -> None:
    """Adding notes of timed services nobody billed only adds minutes to the day (CMS Pub.
    100-04 Ch. 5 §20.2): no line gets a finding or excess it did not have."""
    day = _day(*[(CODES[i], m, b) for i, (m, b) in enumerate(items)])
    before = excess(run_rule("UNITS-8MIN", make_data(day["claims"], day["notes"])))
    extra = [
        note(f"U{i}", code=code, minutes=m, discipline=discipline)
        for i, (code, m) in enumerate(zip(UNBILLED_CODES, unbilled, strict=False))
    ]
    after = excess(run_rule("UNITS-8MIN", make_data(day["claims"], day["notes"] + extra)))
    assert set(after) <= set(before)
    assert all((after[k] or 0) <= (before[k] or 0) for k in after)
