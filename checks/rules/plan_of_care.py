"""Plan-of-care rules: services need a current, certified plan of the same discipline.

Source: CMS Medicare Benefit Policy Manual, Pub. 100-02, Ch. 15 §220.1.
A line is matched to the plans of its patient (a join on patient_id: a patient has a handful
of plans, so the join grows with the lines, not with their square). A plan matches a line when
their disciplines agree (a PT may not treat under an OT's plan); a plan without a discipline
matches any line, and a line without one matches any plan but a behavioral-health plan
(_discipline_ok).
"""

from __future__ import annotations

import polars as pl

from checks.base import LINE_ID, LINE_KEY, AuditData, billed_lines
from checks.declare import Param, rule

# lines of any classified code can need a plan (evaluations are exempt inside the rules)
THERAPY = ("timed", "untimed", "per_session")
_OUT = ("claim_id", "line_number", "supported_units", "excess_units", "message", "evidence")


def _therapy_lines(data: AuditData) -> pl.LazyFrame:
    """In-scope lines with units of codes furnished under a plan (evaluations are exempt: the
    evaluation that establishes the plan is not itself under a plan, §220.1)."""
    return (
        billed_lines(data)
        .filter(pl.col("procedure_code").is_in(sorted(data.codes.therapy)))
        .select(LINE_ID, *LINE_KEY, "patient_id", "service_date", "procedure_code", "discipline")
    )


def _plans(data: AuditData) -> pl.LazyFrame:
    return data.plans.select(
        "patient_id",
        "plan_id",
        pl.col("discipline").alias("plan_discipline"),
        "cert_start",
        "cert_end",
        "signed_date",
    ).with_row_index("_plan_row")


def _discipline_ok() -> pl.Expr:
    """A plan matches a line of its discipline; a plan without a discipline matches any line.
    A line without one (no GP/GO/GN modifier and no default in the profile's codes.discipline)
    is a therapy line of unknown discipline: it matches PT, OT and SLP plans but not a
    behavioral-health plan, since the profiles map every behavioral-health code to BH (found
    in review: an unmodified 97110 was taken as covered by a BH treatment plan)."""
    line, plan = pl.col("discipline"), pl.col("plan_discipline")
    return plan.is_null() | (line == plan) | (line.is_null() & (plan != "BH"))


def _plan_text() -> pl.Expr:
    """'POC1 (PT, 2026-01-02..2026-03-31, signed 2026-01-05)' for evidence."""
    return pl.format(
        "{} ({}, {}..{}, {})",
        pl.col("plan_id"),
        pl.col("plan_discipline").fill_null("no discipline"),
        pl.col("cert_start"),
        pl.col("cert_end"),
        pl.when(pl.col("signed_date").is_null())
        .then(pl.lit("unsigned"))
        .otherwise(pl.format("signed {}", pl.col("signed_date"))),
    )


def _whole_line() -> dict[str, pl.Expr]:
    return {
        "supported_units": pl.lit(None, dtype=pl.Int64),
        "excess_units": pl.lit(None, dtype=pl.Int64),
    }


def _flagged_only(rows: pl.LazyFrame, clean: pl.Expr) -> pl.LazyFrame:
    """The line-plan rows of lines where `clean` (aggregated per line) is false. Evidence texts
    are then built for the few flagged lines only, not for every line and plan."""
    rows = rows.cache()  # read twice (why: the caching note in checks/base.py)
    flagged = rows.group_by(LINE_ID).agg(clean.alias("_clean")).filter(~pl.col("_clean"))
    return rows.join(flagged.select(LINE_ID), on=LINE_ID, how="semi")


def _with_started_plans(data: AuditData) -> pl.LazyFrame:
    """Each therapy line joined to its patient's plans, with `started`: the plan matches the
    line's discipline and was certified from on or before the date of service."""
    return (
        _therapy_lines(data)
        .join(_plans(data), on="patient_id", how="left")
        .with_columns(
            started=pl.col("plan_id").is_not_null()
            & _discipline_ok()
            & (pl.col("cert_start") <= pl.col("service_date"))
        )
    )


@rule(
    "POC-MISSING",
    applies_to=THERAPY,
    title="No plan of care for the patient and discipline",
    severity="error",
    citation="CMS Medicare Benefit Policy Manual, Pub. 100-02, Ch. 15 §220.1",
)
def poc_missing(data: AuditData) -> pl.LazyFrame:
    """Therapy or behavioral-health line with no plan of the patient and discipline starting on
    or before the date of service.

    Every therapy service must be furnished under a plan of care of the same discipline
    (Pub. 100-02 ch. 15 §220.1); Medicaid behavioral-health services need a
    current treatment plan. Evaluation codes are exempt. Whole-line finding; the evidence lists
    the patient's other plans (wrong discipline, or starting later) so a reviewer sees why.
    """
    rows = _with_started_plans(data)
    return (
        _flagged_only(rows, pl.col("started").any())
        .group_by(LINE_KEY)
        .agg(
            any_started=pl.col("started").any(),
            code=pl.col("procedure_code").first(),
            discipline=pl.col("discipline").first(),
            plans=_plan_text().drop_nulls().sort().str.join("; "),
        )
        .filter(~pl.col("any_started"))
        .with_columns(
            **_whole_line(),
            message=pl.format(
                "No plan of care {}had started by the date of service, so this {} service was "
                "not furnished under a plan.",
                pl.when(pl.col("discipline").is_null())
                .then(pl.lit(""))
                .otherwise(pl.format("for {} ", pl.col("discipline"))),
                pl.col("code"),
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
    applies_to=THERAPY,
    title="Plan of care expired or not recertified",
    severity="error",
    citation="CMS Pub. 100-02, Ch. 15 §220.1.2 (certification covers up to 90 calendar days)",
    params=(Param("max_cert_days", 90, "calendar days one certification can cover"),),
)
def poc_expired(data: AuditData, *, max_cert_days: int) -> pl.LazyFrame:
    """A plan exists but none covers the date of service.

    A certification covers the plan's duration or `max_cert_days` calendar days, whichever is
    less; treatment beyond it needs a recertification (Pub. 100-02 ch. 15 §220.1.2).
    A plan of the line's discipline covers the date when
    cert_start <= date <= min(cert_end, cert_start + max_cert_days - 1): 90 days from 1 January
    run through 31 March. A recertification is simply another plan row that covers the date.
    Lines with no plan started at all are POC-MISSING's. Whole-line finding.
    """
    through = pl.min_horizontal(
        "cert_end", pl.col("cert_start") + pl.duration(days=max_cert_days - 1)
    )
    rows = _with_started_plans(data).filter(pl.col("started")).with_columns(through=through)
    return (
        _flagged_only(rows, (pl.col("service_date") <= pl.col("through")).any())
        .group_by(LINE_KEY)
        .agg(
            covered=(pl.col("service_date") <= pl.col("through")).any(),
            last_through=pl.col("through").max(),
            code=pl.col("procedure_code").first(),
            plans=pl.format("{} certified through {}", _plan_text(), pl.col("through"))
            .sort()
            .str.join("; "),
        )
        .filter(~pl.col("covered"))
        .with_columns(
            **_whole_line(),
            message=pl.format(
                "The plan of care for this {} service was certified only through {} (plan end "
                "or {}-day limit), and no recertification covers this later date of service.",
                pl.col("code"),
                pl.col("last_through"),
                pl.lit(max_cert_days),
            ),
            evidence=pl.format("plans={}", pl.col("plans")),
        )
        .select(_OUT)
    )


@rule(
    "POC-UNSIGNED",
    applies_to=THERAPY,
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
    """The covering plan is unsigned, or signed too long after the first treatment under it.

    The physician/NPP certifies the plan within 30 days after the first treatment day, the
    evaluation included (Pub. 100-02 ch. 15 §220.1.3). Plans of the line's
    discipline whose certification range (cert_start..cert_end) contains the date are
    considered; the 90-day limit is POC-EXPIRED's business. A plan's first treatment is the
    earliest date of service of any of the patient's lines with units (any code and payer,
    evaluations included, matching discipline) within its range. A plan is certified in time
    when signed_date - first treatment <= `max_signature_delay_days`. The line is clean when
    any covering plan is certified in time. Otherwise it is a whole-line finding: when every
    covering plan is unsigned, the `severity` column is left null and the engine fills it with
    the profile's severity for this rule (error by default); when a covering plan is signed
    but late, the severity is `late_severity` (warning by default) — delayed certification is
    allowed with a reason, so it is reported, not silently accepted (§220.1.3).
    """
    plans = _plans(data).cache()
    treated = (
        data.lines.filter(pl.col("units") > 0)
        .select("patient_id", "service_date", "discipline")
        .unique()
    )
    first_treatment = (
        plans.join(treated, on="patient_id", how="inner")
        .filter(
            _discipline_ok()
            & pl.col("service_date").is_between(pl.col("cert_start"), pl.col("cert_end"))
        )
        .group_by("_plan_row")
        .agg(first_tx=pl.col("service_date").min())
    )
    delay = (pl.col("signed_date") - pl.col("first_tx")).dt.total_days()
    in_time = pl.col("signed_date").is_not_null() & (delay <= max_signature_delay_days)
    late_days = pl.when(pl.col("signed_date").is_not_null()).then(delay)
    rows = (
        _therapy_lines(data)
        .join(plans, on="patient_id", how="inner")
        .filter(
            _discipline_ok()
            & pl.col("service_date").is_between(pl.col("cert_start"), pl.col("cert_end"))
        )
        .join(first_treatment, on="_plan_row", how="left")
    )
    return (
        _flagged_only(rows, in_time.any())
        .group_by(LINE_KEY)
        .agg(
            any_in_time=in_time.any(),
            any_signed=pl.col("signed_date").is_not_null().any(),
            best_delay=late_days.min(),
            code=pl.col("procedure_code").first(),
            plans=pl.format("{} first treatment {}", _plan_text(), pl.col("first_tx"))
            .sort()
            .str.join("; "),
        )
        .filter(~pl.col("any_in_time"))
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
                    pl.col("code"),
                    pl.col("best_delay"),
                    pl.col("best_delay") - max_signature_delay_days,
                    pl.lit(max_signature_delay_days),
                )
            )
            .otherwise(
                pl.format(
                    "No plan of care covering this {} service has been signed by the "
                    "physician or non-physician practitioner, so it is not certified.",
                    pl.col("code"),
                )
            ),
            evidence=pl.format("plans={}", pl.col("plans")),
        )
        .select(*_OUT, "severity")
    )
