"""Flow run names an operator can read (flows/schedule/names.py): scope and period."""

from __future__ import annotations

from datetime import date

import pytest

from flows.schedule.names import period_label, run_name


@pytest.mark.parametrize(
    ("period", "label"),
    [
        ((date(2026, 11, 1), date(2026, 11, 30)), "2026-11"),
        ((date(2024, 2, 1), date(2024, 2, 29)), "2024-02"),  # leap February
        ((date(2026, 1, 1), date(2026, 12, 31)), "2026"),
        ((date(2026, 10, 1), date(2026, 12, 31)), "2026-10-01..2026-12-31"),  # a quarter
        ((date(2026, 11, 2), date(2026, 11, 30)), "2026-11-02..2026-11-30"),
        (None, ""),
    ],
)
def test_period_label(period: tuple[date, date] | None, label: str) -> None:
    assert period_label(period) == label


def test_a_scheduled_drop_folder_run_is_named_after_its_scope_and_window() -> None:
    params = {"inputs": "/srv/drop/clinic-north", "out": "/srv/audits", "scope": "clinic-north"}
    # scheduled on 1 December: the default window is last month
    assert run_name(params, date(2026, 12, 1)) == "clinic-north 2026-11"
    assert run_name({**params, "window": "last-quarter"}, date(2027, 1, 1)) == (
        "clinic-north 2026-10-01..2026-12-31"
    )


def test_without_a_scope_the_drop_folder_or_output_folder_names_the_run() -> None:
    assert run_name({"inputs": "/srv/drop/south", "out": "/x"}, date(2026, 12, 1)) == (
        "south 2026-11"
    )
    # a direct-inputs run without a period: the output folder and the day
    assert run_name({"claims": "c.csv", "out": "/srv/audit-q4"}, date(2026, 12, 3)) == (
        "audit-q4 2026-12-03"
    )
    given = {"out": "/o", "scope": "west", "period": "2026-03-01..2026-03-31"}
    assert run_name(given, date(2026, 12, 3)) == "west 2026-03"


def test_a_bad_period_still_gives_a_name() -> None:
    """The run reports the bad period itself; naming it must not fail first."""
    assert run_name({"out": "/o", "scope": "s", "period": "soon"}, date(2026, 12, 3)) == (
        "s 2026-12-03"
    )
