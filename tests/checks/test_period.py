"""The audit period (checks/period.py): which claim lines are audited, and what the others still
are. The universe of an audit is the claims of the provider, period and services under review
(CMS Pub. 100-08 ch. 8 §8.4); evidence is not limited to it: the first treatment that starts a
plan's 30 days may lie before the period (Pub. 100-02 ch. 15 §220.1.3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from checks.engine import FINDINGS, NOT_APPLICABLE, run_rules
from checks.period import in_period, split_period
from flows.inputs.validate import validate_inputs
from flows.synth.generate import generate
from tests.support.rows import THREE_EXPORTS as EXPORTS
from tests.support.rows import valid_row, write_csv_text
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    PLAN_SCHEMA,
    claim,
    mue_table,
    note,
    plan,
    shipped_profiles,
)

PROFILES = shipped_profiles()
FEBRUARY = (dt.date(2026, 2, 1), dt.date(2026, 2, 28))

# (case, date of service, audited in the February 2026 period?); both ends are inclusive, as
# `--period START..END` says
FILTER_CASES = [
    ("first day of the period", dt.date(2026, 2, 1), True),
    ("last day of the period", dt.date(2026, 2, 28), True),
    ("a day inside", dt.date(2026, 2, 14), True),
    ("the day before the period", dt.date(2026, 1, 31), False),
    ("the day after the period", dt.date(2026, 3, 1), False),
    ("a year earlier, same day", dt.date(2025, 2, 14), False),
    ("no date (the contract quarantines it; outside if it ever got here)", None, False),
]


@pytest.mark.parametrize(("case", "day", "audited"), FILTER_CASES, ids=[c[0] for c in FILTER_CASES])
def test_the_period_filter_truth_table(case: str, day: dt.date | None, audited: bool) -> None:
    claims = pl.DataFrame({"service_date": [day]}, schema={"service_date": pl.Date})
    assert claims.select(in_period(FEBRUARY)).item() is audited, case
    kept, outside = split_period(claims, FEBRUARY)
    assert (kept.height, outside) == ((1, 0) if audited else (0, 1)), case


def test_a_one_day_period_and_no_period() -> None:
    days = [dt.date(2026, 2, 27), dt.date(2026, 2, 28), dt.date(2026, 3, 1)]
    claims = pl.DataFrame({"service_date": days, "n": [1, 2, 3]})
    one_day = (dt.date(2026, 2, 28), dt.date(2026, 2, 28))
    kept, outside = split_period(claims, one_day)
    assert kept["n"].to_list() == [2] and outside == 2
    # no period: every line, the very same frame (no copy, nothing counted outside)
    kept, outside = split_period(claims, None)
    assert kept is claims and outside == 0
    assert claims.select(in_period(None)).to_series().all()


def test_a_claim_line_without_a_date_is_quarantined_by_the_contract(tmp_path: Path) -> None:
    rows = {e: [valid_row(e)] for e in EXPORTS}
    rows["claims"].append(valid_row("claims", line_number="2", service_date=""))
    paths = [write_csv_text(tmp_path / f"{e}.csv", rows[e]) for e in EXPORTS]
    validated = validate_inputs(*paths, tmp_path / "out")
    claims = validated.summary["exports"]["claims"]
    assert (claims["rows_read"], claims["rows_accepted"], claims["rows_quarantined"]) == (2, 1, 1)
    assert validated.claims["service_date"].null_count() == 0


def rules(claims: list, notes: list, plans: list, period: tuple[dt.date, dt.date] | None):
    frames = (
        pl.LazyFrame(claims, schema=CLAIM_SCHEMA),
        pl.LazyFrame(notes, schema=NOTE_SCHEMA),
        pl.LazyFrame(plans, schema=PLAN_SCHEMA),
    )
    return run_rules(*frames, profiles=PROFILES, mue=mue_table(), period=period)


def findings(raw: pl.DataFrame) -> set[tuple[str, str]]:
    if raw.is_empty():
        return set()
    return set(raw.select("rule_id", "claim_id").iter_rows())


JAN_20, FEB_10 = dt.date(2026, 1, 20), dt.date(2026, 2, 10)
PLAN = {"start": "2026-01-01", "end": "2026-03-31", "signed": "2026-01-02"}


def test_only_lines_of_the_period_are_flagged_and_counted() -> None:
    """The same billing error on a day outside the period and on a day inside: only the line
    inside is a finding, and only it counts as audited."""
    claims = [claim("C-JAN", date=JAN_20), claim("C-FEB", date=FEB_10, patient="P1")]
    raw, runs, by_profile = rules(claims, [], [plan(**PLAN)], FEBRUARY)
    assert findings(raw) == {("DOC-NO-NOTE", "C-FEB")}
    assert by_profile == {"medicare": 1, "medicaid": 0, "commercial": 0}
    assert runs["DOC-NO-NOTE"].status == FINDINGS
    # without a period both lines are audited, exactly as before
    raw, _, by_profile = rules(claims, [], [plan(**PLAN)], None)
    assert findings(raw) == {("DOC-NO-NOTE", "C-JAN"), ("DOC-NO-NOTE", "C-FEB")}
    assert by_profile["medicare"] == 2


def test_a_first_treatment_before_the_period_still_dates_the_plans_certification() -> None:
    """§220.1.3: the plan is certified within 30 days after the first treatment day. The first
    treatment (January 5) is outside the February audit; the plan, signed February 20, was
    signed 46 days after it, so the February line is under a late plan. Auditing the February
    lines alone as if January did not exist would take February 10 as the first treatment
    (10 days: in time) and miss it."""
    claims = [
        claim("C-JAN", date="2026-01-05"),
        claim("C-FEB", date=FEB_10),
    ]
    notes = [note("N1", date="2026-01-05"), note("N2", date=FEB_10)]
    plans = [plan(start="2026-01-05", end="2026-03-31", signed="2026-02-20")]
    raw, _, _ = rules(claims, notes, plans, FEBRUARY)
    assert findings(raw) == {("POC-UNSIGNED", "C-FEB")}
    assert "first treatment 2026-01-05" in raw["evidence"][0]
    assert raw["severity"][0] == "warning"  # signed late, not missing: late_severity
    # the February lines alone (the January line filtered away) would pass: 10 days
    alone, _, _ = rules(claims[1:], notes, plans, FEBRUARY)
    assert findings(alone) == set()


def test_a_plan_certified_before_the_period_covers_the_lines_in_it() -> None:
    """A plan certified in December (85 days, signed 5 days after the first treatment) covers
    February's treatment: neither the plan nor the note is outside anything that matters."""
    claims = [claim("C-DEC", date="2025-12-15"), claim("C-FEB", date=FEB_10)]
    notes = [note("N1", date="2025-12-15"), note("N2", date=FEB_10)]
    plans = [plan(start="2025-12-15", end="2026-03-09", signed="2025-12-20")]
    raw, runs, by_profile = rules(claims, notes, plans, FEBRUARY)
    assert findings(raw) == set()
    assert by_profile["medicare"] == 1
    assert runs["POC-MISSING"].status == runs["POC-UNSIGNED"].status == "passed"


def test_a_period_without_a_claim_line_audits_nothing_and_says_so() -> None:
    """A November run of a January-April export: nothing to audit, not an error."""
    november = (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    claims = [claim("C-JAN", date=JAN_20), claim("C-FEB", date=FEB_10)]
    raw, runs, by_profile = rules(claims, [], [], november)
    assert raw.is_empty()
    assert set(by_profile.values()) == {0}
    assert {r.status for r in runs.values()} == {NOT_APPLICABLE}


def test_a_period_audit_is_the_full_audit_restricted_to_the_period(tmp_path: Path) -> None:
    """On a generated practice (every violation kind, providers over their day cap, PT and OT
    the same day): the findings of an audit with a period are exactly the full audit's findings
    on the lines of the period. Days are wholly inside or outside, so provider-day and
    patient-day totals are those of the full audit, and earlier lines stay evidence."""
    generate(3000, 21, tmp_path)
    c, n, p = (pl.read_parquet(tmp_path / f"{e}.parquet") for e in EXPORTS)
    first = c["service_date"].min()
    assert isinstance(first, dt.date)
    period = (first + dt.timedelta(days=20), first + dt.timedelta(days=45))
    full, _, _ = run_rules(c.lazy(), n.lazy(), p.lazy(), profiles=PROFILES, mue=mue_table())
    part, _, by_profile = run_rules(
        c.lazy(), n.lazy(), p.lazy(), profiles=PROFILES, mue=mue_table(), period=period
    )
    dates = c.select("claim_id", "line_number", "service_date")
    expected = (
        full.join(dates, on=["claim_id", "line_number"])
        .filter(pl.col("service_date").is_between(*period))
        .drop("service_date")
    )
    assert 0 < part.height < full.height
    assert part.sort(pl.all()).equals(expected.sort(pl.all()))
    assert sum(by_profile.values()) == split_period(c, period)[0].height
