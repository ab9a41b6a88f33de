"""Plan-of-care rules: services need a current, certified plan of the same discipline."""

from __future__ import annotations

import polars as pl

from checks.base import AuditData
from checks.registry import Param, rule

FAMILY = "plan_of_care"


@rule(
    "POC-MISSING",
    family=FAMILY,
    title="No plan of care for the patient and discipline",
    severity="error",
    citation="CMS Medicare Benefit Policy Manual, Pub. 100-02, Ch. 15 §220.1",
)
def poc_missing(data: AuditData) -> pl.LazyFrame:
    """Therapy or behavioral-health line with no plan of the patient and discipline starting on
    or before the date of service."""
    raise NotImplementedError


@rule(
    "POC-EXPIRED",
    family=FAMILY,
    title="Plan of care expired or not recertified",
    severity="error",
    citation="CMS Pub. 100-02, Ch. 15 §220.1.2 (certification covers up to 90 calendar days)",
    params=(Param("max_cert_days", 90, "calendar days one certification can cover"),),
)
def poc_expired(data: AuditData, *, max_cert_days: int) -> pl.LazyFrame:
    """A plan exists but none covers the date of service."""
    raise NotImplementedError


@rule(
    "POC-UNSIGNED",
    family=FAMILY,
    title="Plan of care not certified in time",
    severity="error",
    citation="CMS Pub. 100-02, Ch. 15 §220.1.3 (initial certification within 30 days)",
    params=(
        Param("max_signature_delay_days", 30, "days after the first treatment to sign the plan"),
        Param("late_severity", "warning", "severity of a late (not missing) signature"),
    ),
)
def poc_unsigned(
    data: AuditData, *, max_signature_delay_days: int, late_severity: str
) -> pl.LazyFrame:
    """The covering plan is unsigned, or signed too long after the first treatment under it."""
    raise NotImplementedError
