"""Plan-of-care rules: services need a current, certified plan of the same discipline.

Source: CMS Medicare Benefit Policy Manual, Pub. 100-02, Ch. 15 §220.1.
A line is matched to the plans of its patient (a join on patient_id: a patient has a handful
of plans, so the join grows with the lines, not with their square). A plan matches a line when
their disciplines agree (a PT may not treat under an OT's plan); a plan without a discipline
matches any line, and a line without one matches any plan but a behavioral-health plan
(discipline_ok).

Plans, disciplines and a plan's first treatment: checks/rules/_plans.py.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from checks.base import AuditData
from checks.declare import Param, rule
from checks.rules._plans import (
    ORDER_COLUMNS,
    day_plans,
    first_treatments,
    in_range,
    lines_of_days,
    plan_days,
    plan_text,
    plans_of,
)
from schemas.bounds import DATE_MAX, DATE_MIN

# lines of any classified code can need a plan (evaluations are exempt inside the rules)
THERAPY = ("timed", "untimed", "per_session")
_OUT = ("claim_id", "line_number", "supported_units", "excess_units", "message", "evidence")


def _whole_line() -> dict[str, pl.Expr]:
    return {
        "supported_units": pl.lit(None, dtype=pl.Int64),
        "excess_units": pl.lit(None, dtype=pl.Int64),
    }


def _flagged_days(rows: pl.LazyFrame, clean: pl.Expr) -> pl.LazyFrame:
    """The day-plan rows of the days where `clean` (aggregated per day) is false, with every
    plan column. Evidence texts are then built for the few flagged days only."""
    rows = rows.cache()  # read twice (why: the caching note in checks/base.py)
    flagged = rows.group_by("_day").agg(clean.alias("_clean")).filter(~pl.col("_clean"))
    return rows.join(flagged.select("_day"), on="_day", how="semi")


def _with_plans(rows: pl.LazyFrame, data: AuditData) -> pl.LazyFrame:
    """Day-plan `rows` with every column of their plans."""
    plans = plans_of(data).drop("patient_id", "cert_start", "cert_end")
    return rows.join(plans, on="_plan_row", how="left")


@rule(
    "POC-MISSING",
    action="review",
    needs=("plans",),
    applies_to=THERAPY,
    title="No plan of care for the patient and discipline",
    severity="error",
    citation="CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 §220.1",
)
def poc_missing(data: AuditData) -> pl.LazyFrame:
    """Therapy or behavioral-health line with no plan of the patient and discipline starting on
    or before the date of service.

    Every therapy service must be furnished under a plan of care of the same discipline
    (Pub. 100-02 ch. 15 §220.1); Medicaid behavioral-health services need a
    current treatment plan. Evaluation codes are exempt. Whole-line finding; the evidence lists
    the patient's other plans (wrong discipline, or starting later) so a reviewer sees why.
    """
    started = day_plans(data).filter(pl.col("cert_start") <= pl.col("service_date"))
    missing = plan_days(data).join(started.select("_day"), on="_day", how="anti")
    # the evidence lists every plan of the patient (wrong discipline, or starting later)
    texts = (
        missing.join(plans_of(data), on="patient_id", how="left")
        .group_by("_day")
        .agg(plans=plan_text().drop_nulls().sort().str.join("; "))
    )
    return (
        lines_of_days(data, texts)
        .with_columns(
            **_whole_line(),
            message=pl.format(
                "No plan of care {}had started by the date of service, so this {} service was "
                "not furnished under a plan.",
                pl.when(pl.col("discipline").is_null())
                .then(pl.lit(""))
                .otherwise(pl.format("for {} ", pl.col("discipline"))),
                pl.col("procedure_code"),
            ),
            evidence=pl.format(
                "plans={}; line discipline {}",
                pl.when(pl.col("plans") == "")
                .then(pl.lit("none on file"))
                .otherwise(pl.col("plans")),
                pl.col("discipline").fill_null("not stated"),
            ),
        )
        .select(_OUT)
    )


@rule(
    "POC-EXPIRED",
    action="sign",
    needs=("plans",),
    applies_to=THERAPY,
    title="Plan of care expired or not recertified",
    severity="error",
    citation=(
        "CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 §220.1.3 B and C (plan "
        "duration or 90 calendar days from the initial treatment, evaluation included; "
        "recertification beyond it)"
    ),
    params=(
        Param(
            "max_cert_days",
            90,
            "calendar days one certification can cover, the first treatment under it being day 1",
            minimum=1,
            maximum=1095,
        ),
    ),
)
def poc_expired(data: AuditData, *, max_cert_days: int) -> pl.LazyFrame:
    """A plan exists but none covers the date of service.

    A certification covers the plan's duration or 90 calendar days from the date of the
    initial treatment, whichever is less, and the initial treatment includes the evaluation
    that resulted in the plan (Pub. 100-02 ch. 15 §220.1.3 B); treatment beyond it needs a
    recertification (§220.1.3 C). The 90 days (`max_cert_days`) therefore run from the plan's
    first treatment, not from cert_start: the earliest day inside the plan's range on which
    the patient had a service of its discipline (a billed line, the evaluation included, or a
    note of known discipline). The first treatment is day 1, since a certification interval
    "consists of 90 calendar days or less" (§220): first treatment 1 January, day 90 is 31
    March and 1 April is day 91; a plan certified from 1 January whose evaluation was on 10
    January covers through 9 April. A plan of the line's discipline covers the date when
    cert_start <= date <= min(cert_end, first treatment + `max_cert_days` - 1). A
    recertification is simply another plan row that covers the date. Lines with no plan
    started at all are POC-MISSING's. Whole-line finding; the evidence
    names each plan's first treatment, the end of its 90 days and the date it covers through.
    """
    limit_end = pl.col("first_tx") + pl.duration(days=max_cert_days - 1)
    rows = (
        day_plans(data)
        .filter(pl.col("cert_start") <= pl.col("service_date"))
        .join(first_treatments(data), on="_plan_row", how="left")
        .with_columns(limit_end=limit_end, through=pl.min_horizontal("cert_end", limit_end))
    )
    covered = pl.col("service_date") <= pl.col("through")
    per_plan = (
        pl.when(pl.col("first_tx").is_null())
        .then(pl.format("{}: no treatment in its range", plan_text()))
        .otherwise(
            pl.format(
                "{}: first treatment {}, {}-day end {}",
                plan_text(),
                pl.col("first_tx"),
                pl.lit(max_cert_days),
                pl.col("limit_end"),
            )
        )
    )
    days = (
        _with_plans(_flagged_days(rows, covered.any()), data)
        .group_by("_day")
        .agg(
            last_through=pl.col("through").max(),
            plans=pl.format("{}, certified through {}", per_plan, pl.col("through"))
            .sort()
            .str.join("; "),
        )
    )
    return (
        lines_of_days(data, days)
        .with_columns(
            **_whole_line(),
            message=pl.format(
                "The plan of care for this {} service was certified only through {} (the plan's "
                "end, or {} calendar days from the first treatment under it), and no "
                "recertification covers this later date of service.",
                pl.col("procedure_code"),
                pl.col("last_through"),
                pl.lit(max_cert_days),
            ),
            evidence=pl.format("plans={}", pl.col("plans")),
        )
        .select(_OUT)
    )


def _order_path_gap(accept: bool, start: dt.date, max_sent_days: int) -> tuple[pl.Expr, pl.Expr]:
    """(certifies, why_not) of the CY 2025 path for one line and plan: a signed and dated order
    plus the plan sent to the ordering physician/NPP within `max_sent_days` of the first
    treatment, for dates of service from `start`. The plan is sent "to the referring
    provider", so the order must be dated no later than the day the plan was sent."""
    order, sent = pl.col("order_signed_date"), pl.col("sent_date")
    sent_days = (sent - pl.col("first_tx")).dt.total_days()
    why = (
        pl.when(not accept)
        .then(pl.lit("this profile does not accept a signed order instead"))
        .when(pl.col("service_date") < start)
        .then(pl.format("a signed order certifies only services from {}", pl.lit(start)))
        .when(order.is_null())
        .then(pl.lit("no signed order"))
        .when(sent.is_null())
        .then(pl.lit("no date the plan was sent"))
        .when(order > sent)
        .then(pl.lit("order signed after the plan was sent"))
        .when(sent_days > max_sent_days)
        .then(pl.format("plan sent {} days after the first treatment", sent_days))
    )
    return why.is_null(), why


@rule(
    "POC-UNSIGNED",
    action="sign",
    needs=("plans",),
    applies_to=THERAPY,
    title="Plan of care not certified in time",
    severity="error",
    citation=(
        "CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 §220.1.3 B (initial "
        "certification within 30 days); CY 2025 PFS final rule, 89 Fed. Reg. 97710, 97912-97918 "
        "(signed order and plan sent within 30 days, dates of service from 1 January 2025)"
    ),
    params=(
        Param(
            "max_signature_delay_days",
            30,
            "days after the first treatment to sign the plan",
            minimum=0,
            maximum=365,
        ),
        Param("late_severity", "warning", "severity of a late (not missing) signature"),
        Param("accept_order_path", True, "a signed order plus the plan sent in time certifies"),
        Param(
            "order_path_from",
            dt.date(2025, 1, 1),
            "first date of service of the order path",
            minimum=DATE_MIN,
            maximum=DATE_MAX,
        ),
        Param(
            "max_sent_delay_days",
            30,
            "days after the first treatment to send the plan",
            minimum=0,
            maximum=365,
        ),
    ),
)
def poc_unsigned(
    data: AuditData,
    *,
    max_signature_delay_days: int,
    late_severity: str,
    accept_order_path: bool,
    order_path_from: dt.date,
    max_sent_delay_days: int,
) -> pl.LazyFrame:
    """The covering plan is not certified: unsigned, or signed too long after the first
    treatment under it, and not certified by a signed order either.

    Timely certification of the initial plan: the physician/NPP's signature dated in the 30
    days following the first day of treatment, the evaluation included (Pub. 100-02 ch. 15
    §220.1.3 B). From 1 January 2025 (`order_path_from`) a signed and dated order plus the plan
    sent to the referring physician/NPP within 30 days of the initial treatment also meets it
    (CY 2025 PFS final rule, 89 Fed. Reg. 97912-97918), read from the optional plan columns
    order_signed_date and sent_date; the order must be dated on or before the day the plan was
    sent, to whom it is sent as "the referring provider". Plans of the line's discipline whose
    range (cert_start..cert_end) contains the date are considered; the 90-day limit is
    POC-EXPIRED's business; the first treatment is POC-EXPIRED's. A plan is certified
    when signed_date - first treatment <= `max_signature_delay_days`, or by the order path
    (sent_date - first treatment <= `max_sent_delay_days`; `accept_order_path` false turns
    the path off). The line is clean when any covering plan is certified. Otherwise it is a
    whole-line finding: when every covering plan is unsigned, the `severity` column is left
    null and the engine fills it with the profile's severity for this rule (error by
    default); when a covering plan is signed but late, the severity is `late_severity`
    (warning by default): delayed certification is allowed with a reason, so it is reported,
    not silently accepted (§220.1.3 D). The evidence gives each plan's first treatment and,
    when the plan has an order or a sent date, why the order path did not certify it.
    """
    rows = _with_plans(
        day_plans(data).filter(in_range()).join(first_treatments(data), on="_plan_row", how="left"),
        data,
    )
    delay = (pl.col("signed_date") - pl.col("first_tx")).dt.total_days()
    by_order, why_not = _order_path_gap(accept_order_path, order_path_from, max_sent_delay_days)
    in_time = (pl.col("signed_date").is_not_null() & (delay <= max_signature_delay_days)) | by_order
    late_days = pl.when(pl.col("signed_date").is_not_null()).then(delay)
    has_order = pl.any_horizontal(pl.col(c).is_not_null() for c in ORDER_COLUMNS)
    per_plan = pl.format("{} first treatment {}", plan_text(), pl.col("first_tx"))
    days = (
        _flagged_days(rows, in_time.any())
        .group_by("_day")
        .agg(
            any_signed=pl.col("signed_date").is_not_null().any(),
            any_order=has_order.any(),
            best_delay=late_days.min(),
            plans=pl.when(has_order)
            .then(pl.format("{} ({})", per_plan, why_not))
            .otherwise(per_plan)
            .sort()
            .str.join("; "),
        )
    )
    return (
        lines_of_days(data, days)
        .with_columns(
            **_whole_line(),
            # null: the engine applies the profile's severity for POC-UNSIGNED
            severity=pl.when(pl.col("any_signed"))
            .then(pl.lit(late_severity))
            .otherwise(pl.lit(None, dtype=pl.String)),
            message=pl.when(pl.col("any_signed"))
            .then(
                pl.format(
                    "The plan of care covering this {} service was signed {} days after the "
                    "first treatment under it, {} days later than the {}-day limit for "
                    "certification.",
                    pl.col("procedure_code"),
                    pl.col("best_delay"),
                    pl.col("best_delay") - max_signature_delay_days,
                    pl.lit(max_signature_delay_days),
                )
            )
            .otherwise(
                pl.format(
                    "No plan of care covering this {} service has been signed by the "
                    "physician or non-physician practitioner, so it is not certified.",
                    pl.col("procedure_code"),
                )
            )
            + pl.when(pl.col("any_order"))
            .then(
                pl.lit(
                    " A signed order does not certify it either: the plan must be sent to the "
                    f"ordering practitioner within {max_sent_delay_days} days of the first "
                    "treatment."
                )
            )
            .otherwise(pl.lit("")),
            evidence=pl.format("plans={}", pl.col("plans")),
        )
        .select(*_OUT, "severity")
    )
