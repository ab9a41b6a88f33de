"""Unit rules: 8-minute rule, untimed codes, Medically Unlikely Edits, per-session minimums."""

from __future__ import annotations

import polars as pl

from checks.base import AuditData
from checks.registry import Param, rule

FAMILY = "units"


@rule(
    "UNITS-8MIN",
    family=FAMILY,
    title="Timed units exceed the documented minutes (8-minute rule)",
    severity="error",
    citation=(
        "CMS Medicare Claims Processing Manual, Pub. 100-04, Ch. 5 §20.2 (total-time method); "
        "AMA CPT time rule (midpoint, per code)"
    ),
    params=(
        Param("method", "cms", "'cms' total-time (pooled per patient, day, discipline) or 'ama'"),
        Param("unit_minutes", 15, "minutes in one timed unit"),
        Param("min_minutes", 8, "fewest minutes that support the first unit"),
    ),
)
def units_8min(
    data: AuditData, *, method: str, unit_minutes: int, min_minutes: int
) -> pl.LazyFrame:
    """Timed 15-minute codes billed with more units than the note's minutes support."""
    raise NotImplementedError


@rule(
    "UNITS-UNTIMED",
    family=FAMILY,
    title="Untimed or per-session code billed more than once a day",
    severity="error",
    citation="CMS Pub. 100-04 Ch. 5 §20.2 (service-based codes); billing-rules.md §1",
    params=(Param("max_units_per_day", 1, "units allowed per patient, day and code"),),
)
def units_untimed(data: AuditData, *, max_units_per_day: int) -> pl.LazyFrame:
    """Untimed and per-session codes billed with more than one unit per patient and day."""
    raise NotImplementedError


@rule(
    "UNITS-MUE",
    family=FAMILY,
    title="Units above the Medically Unlikely Edit",
    severity="error",
    citation="CMS NCCI Medically Unlikely Edits, practitioner services (data/reference/mue.csv)",
)
def units_mue(data: AuditData) -> pl.LazyFrame:
    """Units per code, patient and day above the MUE in the versioned reference table."""
    raise NotImplementedError


@rule(
    "UNITS-SESSION-MIN",
    family=FAMILY,
    title="Per-session code with a session shorter than the minimum",
    severity="error",
    citation="State Medicaid manuals: H2032 activity therapy, sessions of at least 30 minutes",
    params=(Param("min_session_minutes", 30, "shortest documented session that qualifies"),),
)
def units_session_min(data: AuditData, *, min_session_minutes: int) -> pl.LazyFrame:
    """Per-session codes whose documented session is shorter than the profile minimum."""
    raise NotImplementedError
