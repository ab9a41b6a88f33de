"""Plans of care as the plan-of-care rules read them: the plan columns, the discipline match,
each plan's first treatment and the evidence text of a plan.

A plan's first treatment (`first_treatments`) is the earliest date inside its certification
range (cert_start..cert_end) on which the patient received a service of the plan's discipline:
a claim line with units (any code and payer, the evaluation included: "The initial treatment
includes the evaluation that resulted in the plan", Pub. 100-02 ch. 15 §220.1.3 B) or a note
whose discipline is known (the notes' discipline column, else the code's default discipline in
the profile). A note of unknown discipline does not count: it might be another discipline's
service and would start this plan's clock too early. Services before cert_start do not count
either, since the export does not say which plan an earlier evaluation established; starting
later never overstates a finding.

The three plan-of-care rules judge a line by its patient, date and discipline alone, so they work
on the distinct such days of the therapy lines (`plan_days`, about half as many rows as lines)
and each day's candidate plans (`day_plans`), built once per engine job group (AuditData.shared)
and joined back to the lines of the few days flagged.
"""

from __future__ import annotations

import polars as pl

from checks.base import LINE_ID, LINE_KEY, AuditData, billed_lines

# optional plan columns of the CY 2025 initial-certification path (null when the export lacks them)
ORDER_COLUMNS = ("order_signed_date", "sent_date")


# what a plan-of-care rule needs to know of a line: its plans depend on nothing else
DAY_KEY = ("patient_id", "service_date", "discipline")


def therapy_lines(data: AuditData) -> pl.LazyFrame:
    """In-scope lines with units of codes furnished under a plan (evaluations are exempt: the
    evaluation that establishes the plan is not itself under a plan, §220.1)."""
    return (
        billed_lines(data)
        .filter(pl.col("procedure_code").is_in(sorted(data.codes.therapy)))
        .select(LINE_ID, *LINE_KEY, "patient_id", "service_date", "procedure_code", "discipline")
    )


def plan_days(data: AuditData) -> pl.LazyFrame:
    """The distinct (patient, date, discipline) of the lines billing therapy codes, numbered
    `_day`. Lines of every profile: a day's plans do not depend on who audits it, so the frame
    is shared by every scope (AuditData.shared); lines_of_days keeps the in-scope lines."""
    return data.shared.frame(
        "plan_days",
        lambda: (
            data.lines.filter(
                (pl.col("units") > 0) & pl.col("procedure_code").is_in(sorted(data.codes.therapy))
            )
            .select(DAY_KEY)
            .unique()
            .with_row_index("_day")
        ),
    )


def day_plans(data: AuditData) -> pl.LazyFrame:
    """Each day of `plan_days` with each plan of its patient and discipline (discipline_ok):
    `_day`, `_plan_row`, service_date, cert_start, cert_end."""
    return data.shared.frame(
        "day_plans",
        lambda: (
            plan_days(data)
            .join(
                plans_of(data).select(
                    "_plan_row", "patient_id", "plan_discipline", "cert_start", "cert_end"
                ),
                on="patient_id",
                how="inner",
            )
            .filter(discipline_ok())
            .select("_day", "_plan_row", "service_date", "cert_start", "cert_end")
        ),
    )


def lines_of_days(data: AuditData, days: pl.LazyFrame) -> pl.LazyFrame:
    """The therapy lines of `days` (frames with `_day`), with the days' columns."""
    keyed = plan_days(data).join(days, on="_day", how="inner")
    return therapy_lines(data).join(keyed, on=list(DAY_KEY), how="inner", nulls_equal=True)


def plans_of(data: AuditData) -> pl.LazyFrame:
    return data.shared.frame("plans", lambda: _plans(data))


def _plans(data: AuditData) -> pl.LazyFrame:
    present = data.plans.collect_schema().names()
    return data.plans.select(
        "patient_id",
        "plan_id",
        pl.col("discipline").alias("plan_discipline"),
        "cert_start",
        "cert_end",
        "signed_date",
        *(
            pl.col(c) if c in present else pl.lit(None, dtype=pl.Date).alias(c)
            for c in ORDER_COLUMNS
        ),
    ).with_row_index("_plan_row")


def discipline_ok() -> pl.Expr:
    """A plan matches a line of its discipline; a plan without a discipline matches any line.
    A line without one (no GP/GO/GN modifier and no default in the profile's codes.discipline)
    is a therapy line of unknown discipline: it matches PT, OT and SLP plans but not a
    behavioral-health plan, since the profiles map every behavioral-health code to BH (found
    in review: an unmodified 97110 was taken as covered by a BH treatment plan)."""
    line, plan = pl.col("discipline"), pl.col("plan_discipline")
    return plan.is_null() | (line == plan) | (line.is_null() & (plan != "BH"))


def in_range() -> pl.Expr:
    return pl.col("service_date").is_between(pl.col("cert_start"), pl.col("cert_end"))


def first_treatments(data: AuditData) -> pl.LazyFrame:
    """`_plan_row` -> `first_tx`, the plan's first treatment (module docstring)."""
    return data.shared.frame("first_treatments", lambda: _first_treatments(data))


def _first_treatments(data: AuditData) -> pl.LazyFrame:
    plans = plans_of(data)
    lines = data.lines.filter(pl.col("units") > 0).select(
        "patient_id", "service_date", "discipline"
    )
    note_columns = data.notes.collect_schema().names()
    by_code = pl.col("procedure_code").replace_strict(
        data.codes.discipline, default=None, return_dtype=pl.String
    )
    day = ("patient_id", "service_date")
    if "discipline" in note_columns:
        # the code's default is looked up for the (few) notes of unknown discipline only
        disc = pl.col("discipline")
        known = data.notes.filter(disc.is_not_null()).select(*day, disc)
        guessed = data.notes.filter(disc.is_null()).select(*day, by_code.alias("discipline"))
        notes = pl.concat([known, guessed.filter(disc.is_not_null())])
    else:
        notes = data.notes.select(*day, by_code.alias("discipline")).filter(
            pl.col("discipline").is_not_null()
        )
    # no unique() first: a repeated day changes no minimum and deduplicating costs more
    treated = pl.concat([lines, notes])
    return (
        plans.select("_plan_row", "patient_id", "plan_discipline", "cert_start", "cert_end")
        .join(treated, on="patient_id", how="inner")
        .filter(discipline_ok() & in_range())
        .group_by("_plan_row")
        .agg(first_tx=pl.col("service_date").min())
    )


def plan_text() -> pl.Expr:
    """'POC1 (PT, 2026-01-02..2026-03-31, signed 2026-01-05)' for evidence; the order and the
    date the plan was sent are added when the export has them."""
    order, sent = (pl.col(c).cast(pl.String).fill_null("none") for c in ORDER_COLUMNS)
    return pl.format(
        "{} ({}, {}..{}, {}{})",
        pl.col("plan_id"),
        pl.col("plan_discipline").fill_null("no discipline"),
        pl.col("cert_start"),
        pl.col("cert_end"),
        pl.when(pl.col("signed_date").is_null())
        .then(pl.lit("unsigned"))
        .otherwise(pl.format("signed {}", pl.col("signed_date"))),
        pl.when(pl.any_horizontal(pl.col(c).is_not_null() for c in ORDER_COLUMNS))
        .then(pl.format(", order signed {}, plan sent {}", order, sent))
        .otherwise(pl.lit("")),
    )
