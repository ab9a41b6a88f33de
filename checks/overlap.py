"""Overlap rules: the same minutes billed twice, one therapist with two patients at once, and
implausible daily totals. Interval overlaps are found by sorting, never by an all-pairs join."""

from __future__ import annotations

import polars as pl

from checks.base import AuditData
from checks.registry import Param, rule

FAMILY = "overlap"


@rule(
    "OVERLAP-TIMED",
    family=FAMILY,
    title="Overlapping one-on-one timed services for one patient (97530/97110)",
    severity="error",
    citation=(
        "CMS Pub. 100-04 Ch. 5 §20.2 (timed codes need distinct, separately documented time); "
        "billing-rules.md §4"
    ),
    params=(
        Param("unit_minutes", 15, "minutes in one timed unit"),
        Param("min_minutes", 8, "fewest minutes that support one unit"),
    ),
)
def overlap_timed(data: AuditData, *, unit_minutes: int, min_minutes: int) -> pl.LazyFrame:
    """One-on-one timed services of one patient and day whose documented intervals overlap."""
    raise NotImplementedError


@rule(
    "OVERLAP-PROVIDER",
    family=FAMILY,
    title="One therapist's one-on-one services for two patients at the same time",
    severity="error",
    citation="CMS Pub. 100-02 Ch. 15 §220.2 (one-on-one vs. group 97150); billing-rules.md §4",
    params=(Param("min_overlap_minutes", 1, "shortest overlap that counts"),),
    provider_scope=True,
)
def overlap_provider(data: AuditData, *, min_overlap_minutes: int) -> pl.LazyFrame:
    """One provider's one-on-one timed services for different patients with overlapping times."""
    raise NotImplementedError


@rule(
    "OVERLAP-DAY-CAP",
    family=FAMILY,
    title="Provider billed more timed minutes in a day than the cap",
    severity="warning",
    citation="OIG OEI-04-09-00540 (questionable billing: more than 8 hours of therapy a day)",
    params=(
        Param("cap_minutes", 480, "most timed minutes one provider can plausibly bill in a day"),
        Param("unit_minutes", 15, "minutes in one timed unit"),
    ),
    provider_scope=True,
)
def overlap_day_cap(data: AuditData, *, cap_minutes: int, unit_minutes: int) -> pl.LazyFrame:
    """A provider's billed timed minutes in one day above the cap."""
    raise NotImplementedError
