"""The dataset expectations' metrics (checks/dataset_metrics.py) on small frames, without Great
Expectations: shares, dates outside the period, unknown codes, units per timed code, the specs'
order and bounds, and a result built from an outcome."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

import polars as pl
import pytest

from checks import dataset_metrics as dm

JAN = date(2026, 1, 5)
CFG: dict[str, Any] = {
    "row_counts.claims.min": 1, "row_counts.notes.min": 1, "row_counts.plans.min": 1,
    "row_counts.claims.max": 1000, "notes_without_times.max_share": 0.05,
    "timed_units.min_lines": 3, "timed_units.min_mean": 1.0, "timed_units.max_mean": 4.0,
    "timed_units.max_units_per_line": 4, "timed_units.max_share_above": 0.1,
    "unknown_codes.max_share": 0.01, "service_dates.max_share_outside": 0.0,
}  # fmt: skip
TIMED = frozenset({"97110", "97140"})


def claims(codes: list[str], units: list[int], days: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "procedure_code": codes,
            "units": units,
            "service_date": [JAN + timedelta(days=d) for d in days],
        }
    )


def notes(n: int, untimed: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "procedure_code": ["97110"] * n,
            "service_date": [JAN] * n,
            "start_time": [None if i < untimed else time(9) for i in range(n)],
            "end_time": [time(9, 30)] * n,
        },
        schema_overrides={"start_time": pl.Time},
    )


@pytest.mark.parametrize(("part", "whole", "share"), [(0, 0, 0.0), (3, 0, 0.0), (1, 4, 0.25)])
def test_share(part: int, whole: int, share: float) -> None:
    assert dm.share(part, whole) == share


def test_date_stats_inside_and_outside_the_period() -> None:
    frame = claims(["97110"] * 4, [1] * 4, [0, 1, 10, 20])  # Jan 5, 6, 15, 25
    stats = dm.date_stats(frame, (date(2026, 1, 6), date(2026, 1, 15)))  # inclusive
    assert stats == {"share": 0.5, "rows_outside": 2, "min": "2026-01-05",
                     "max": "2026-01-25", "rows": 4}  # fmt: skip
    assert dm.date_stats(frame, None)["rows_outside"] == 0
    assert dm.date_stats(frame.clear(), None) == {
        "share": 0.0, "rows_outside": 0, "min": None, "max": None, "rows": 0,
    }  # fmt: skip


def test_unknown_stats_names_the_most_frequent_codes_first() -> None:
    frame = claims(["97110", "X2", "X1", "X1", "X2", "X3"], [1] * 6, [0] * 6)
    stats = dm.unknown_stats(frame, frozenset({"97110"}))
    assert stats == {"share": 5 / 6, "rows_unknown": 5, "codes": ["X1", "X2", "X3"], "rows": 6}


def test_timed_units_judges_only_codes_with_enough_lines() -> None:
    frame = claims(["97110"] * 4 + ["97140"] * 2 + ["97530"], [2, 2, 5, 3, 9, 9, 8], [0] * 7)
    per_code = dm.timed_units(frame, TIMED, CFG)
    assert per_code.rows(named=True) == [
        {"procedure_code": "97110", "lines": 4, "mean_units": 3.0, "lines_above": 1,
         "share_above": 0.25},
        # two lines, fewer than min_lines: counted, not judged
        {"procedure_code": "97140", "lines": 2, "mean_units": None, "lines_above": 2,
         "share_above": None},
    ]  # fmt: skip


def test_specs_order_bounds_and_observed() -> None:
    c = claims(["97110"] * 3 + ["X9"], [2] * 4, [0, 1, 2, 3])
    frames = {"claims": c, "notes": notes(4, untimed=1), "plans": pl.DataFrame({"p": [1]})}
    per_code = dm.timed_units(c, TIMED, CFG)
    specs = dm.specs(frames, None, CFG, frozenset({"97110"}), per_code)
    assert [(s.export, s.name) for s in specs] == [
        ("claims", "row_count"), ("claims", "unknown_code_share"),
        ("claims", "timed_units_mean"), ("claims", "timed_units_share_above"),
        ("claims", "service_dates_in_period"), ("notes", "row_count"),
        ("notes", "without_times_share"), ("notes", "unknown_code_share"),
        ("notes", "service_dates_in_period"), ("plans", "row_count"),
    ]  # fmt: skip
    by = {(s.export, s.name): s for s in specs}
    rows = by[("plans", "row_count")]
    assert (rows.column, rows.lo, rows.hi, rows.observed) == ("plans__rows", 1, None, {"rows": 1})
    times = by[("notes", "without_times_share")]
    assert times.observed == {"share": 0.25, "rows_without_times": 1, "rows": 4}
    assert by[("claims", "unknown_code_share")].observed["codes"] == ["X9"]
    assert by[("claims", "timed_units_mean")].observed == {
        "codes_checked": 1, "codes_below_min_lines": 0,
    }  # fmt: skip
    period = by[("notes", "service_dates_in_period")].expected
    assert period["period"] == ["2026-01-05", "2026-01-08"]  # derived from the claims
    assert period["period_source"] == "derived from the claim service dates"
    assert "more than 4 units" in by[("claims", "timed_units_share_above")].description


def test_describe_rounds_and_lists_failing_codes() -> None:
    c = claims(["97110"] * 3, [5, 5, 4], [0] * 3)
    per_code = dm.timed_units(c, TIMED, CFG)
    frames = {"claims": c, "notes": notes(3), "plans": pl.DataFrame({"p": [1]})}
    specs = {
        s.name: s for s in dm.specs(frames, None, CFG, TIMED, per_code) if s.export == "claims"
    }
    above = dm.describe(
        specs["timed_units_share_above"], {"success": False, "codes": ["97110"], "error": None},
        per_code,
    )  # fmt: skip
    assert above["success"] is False and "error" not in above["observed"]
    assert above["observed"]["failing"] == [
        {"procedure_code": "97110", "lines": 3, "lines_above": 2, "share_above": 0.666667}
    ]
    mean = dm.describe(
        specs["timed_units_mean"], {"success": True, "codes": [], "error": None}, per_code
    )
    assert mean["observed"]["failing"] == []
    assert mean["observed"]["by_code"][0]["mean_units"] == 4.666667
    broken = dm.describe(
        specs["row_count"], {"success": False, "codes": [], "error": "E"}, per_code
    )
    assert broken["observed"] == {"rows": 3, "error": "E"}
    assert (
        broken["description"] == "The number of accepted claim lines is within the expected range."
    )
