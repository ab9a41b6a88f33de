"""Documentation rules: every billed line needs a note, and timed or per-session services need
valid start and end times."""

from __future__ import annotations

import polars as pl

from checks.base import AuditData
from checks.registry import Param, rule

FAMILY = "documentation"


@rule(
    "DOC-NO-NOTE",
    family=FAMILY,
    title="Billed line without a session note",
    severity="error",
    citation="CMS Pub. 100-02 Ch. 15 §220.3 (documentation of each treatment); billing-rules.md §3",
)
def doc_no_note(data: AuditData) -> pl.LazyFrame:
    """Billed line with no note for the same patient, date of service and procedure code."""
    raise NotImplementedError


@rule(
    "TIME-MISSING",
    family=FAMILY,
    title="Session note lacks start or end time",
    severity="warning",
    citation=(
        "State Medicaid manuals and Medicaid Integrity Program criteria (start and end times); "
        "CMS Pub. 100-02 Ch. 15 §220.3 (timed minutes); billing-rules.md §3"
    ),
    params=(
        Param("per_session_severity", "error", "severity for per-session codes"),
        Param("minutes_missing_severity", "error", "severity when minutes are missing too"),
    ),
)
def time_missing(
    data: AuditData, *, per_session_severity: str, minutes_missing_severity: str
) -> pl.LazyFrame:
    """Billed timed or per-session line whose matching note lacks a start or end time."""
    raise NotImplementedError


@rule(
    "TIME-INVALID",
    family=FAMILY,
    title="Session times are impossible or disagree with the minutes",
    severity="error",
    citation="CMS Pub. 100-02 Ch. 15 §220.3; billing-rules.md §3",
    params=(
        Param("max_span_minutes", 240, "longest plausible single service"),
        Param("minutes_tolerance", 2, "allowed difference between minutes and end - start"),
    ),
)
def time_invalid(data: AuditData, *, max_span_minutes: int, minutes_tolerance: int) -> pl.LazyFrame:
    """End at or before start, a span over the maximum, or minutes disagreeing with the times."""
    raise NotImplementedError
