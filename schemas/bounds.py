"""The input contract's bounds on values (README, Input contract), in one place for the contract
(schemas/contract.py), the parser (schemas/normalize.py) and the rules' parameter ranges.

Dates: no therapy claim, note or plan predates 1900 or is dated beyond 2100, and outside them
date arithmetic in the rules overflows. Amounts: one claim line above ten million dollars is a
typing error, and a bound keeps every sum finite. Units: a line of 9,999 fifteen-minute units is
already 2,500 hours. Minutes: one session within a day. Dates are bounded by schemas/normalize.py,
not Pandera: Pandera turns a failing value into a Python object, and a year-0 date has none.
"""

from __future__ import annotations

import datetime as dt

DATE_MIN = dt.date(1900, 1, 1)
DATE_MAX = dt.date(2100, 12, 31)
AMOUNT_MAX = 10_000_000
UNITS_MAX = 9_999
MINUTES_MAX = 1_440


def date_range_reason(column: str) -> str:
    return f"{column} must be between {DATE_MIN} and {DATE_MAX}"
