"""Cents: amounts enter the statistics rounded to cents and money leaves them rounded to cents,
half away from zero, as RAT-STATS does (OIG RAT-STATS 2010 User Guide, variable appraisal)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from checks.sampling.rng import SamplingError

_CENT = Decimal("0.01")


def to_cents(value: str | int | float | Decimal) -> int:
    """An amount as whole cents; text that is not a finite number raises SamplingError."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation:
        raise SamplingError("not a number") from None
    if not amount.is_finite():
        raise SamplingError("not a finite number")
    return int(amount.quantize(_CENT, rounding=ROUND_HALF_UP) * 100)


def round_cents(value: float) -> float:
    """A computed dollar figure rounded to cents (half away from zero, on its shortest repr)."""
    return float(Decimal(repr(value)).quantize(_CENT, rounding=ROUND_HALF_UP))
