"""What an operator reads in the Prefect UI: a flow run named after its scope and period
("clinic-north 2026-11") instead of Prefect's random two words. Pure: the flow's parameters and
the day the run was scheduled for in, the name out (flows/run/prefect_names.py asks Prefect)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from checks.period import Period
from flows.schedule import drop
from schemas.errors import InputError

# Prefect keeps names of any length; the UI shows about this many characters
MAX_NAME = 80


def period_label(period: Period | None) -> str:
    """ "2026-11" for a calendar month, "2026" for a calendar year, else "START..END"; "" for
    none."""
    if period is None:
        return ""
    start, end = period
    whole_months = start.day == 1 and (end + timedelta(days=1)).day == 1
    if whole_months and (start.year, start.month) == (end.year, end.month):
        return f"{start:%Y-%m}"
    if whole_months and start.month == 1 and end.month == 12 and start.year == end.year:
        return f"{start:%Y}"
    return f"{start.isoformat()}..{end.isoformat()}"


def scope_label(parameters: Mapping[str, Any]) -> str:
    """The scope the operator named, else the drop folder's name, else the output folder's."""
    for key in ("scope", "inputs", "out"):
        value = parameters.get(key)
        if value:
            return str(value).strip() if key == "scope" else Path(str(value)).name or str(value)
    return "audit"


def run_name(parameters: Mapping[str, Any], scheduled: date) -> str:
    """The flow run's name: scope and period ("clinic-north 2026-11"); a drop-folder run's
    period is its window's, as the run will compute it; without a period, the run's day."""
    try:
        period = drop.parse_period(parameters.get("period"))
        if period is None and parameters.get("inputs"):
            period = drop.window_period(parameters.get("window") or drop.DEFAULT_WINDOW, scheduled)
    except InputError:
        period = None  # the run itself reports the bad period; its name needs none
    label = period_label(period) or scheduled.isoformat()
    return f"{scope_label(parameters)} {label}"[:MAX_NAME]
