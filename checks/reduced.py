"""The report's measures of the whole audit that a partitioned run reduces beside its rules,
where one pass takes them from its lines and notes in memory (flows/outputs/report.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from checks.sampling.exposure import ClaimTotals


@dataclass(frozen=True)
class Reduced:
    # checks.measures.CLONED_SCHEMA: the cloned-notes measure per provider
    cloned: pl.DataFrame
    # the exposure's sums over the paid claims (checks.sampling.exposure)
    exposure: ClaimTotals
    # the beneficiaries past the review threshold (flows/outputs/review.py; None: no list)
    past_review: pl.DataFrame | None
    # the distinct claims of the lines audited (None: not counted, then counted from the lines)
    claims: int | None = None
