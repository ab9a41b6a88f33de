"""Progress report rules: a clinician reports progress at least once every 10 treatment days."""

from __future__ import annotations

import polars as pl

from checks.base import NULL_INT, AuditData, billed_lines, rule_output
from checks.declare import Param, any_case, rule
from schemas.contract import NOTE_TYPES, ROLES

THERAPY = ["PT", "OT", "SLP"]
KEY = ["patient_id", "discipline"]
DAY = [*KEY, "service_date"]


def _at_start(value: pl.Expr, start: str) -> pl.Expr:
    """`value` of the latest row where `start` holds (rows sorted, a group's first row a start)."""
    return pl.when(pl.col(start)).then(value).forward_fill()


def _since(running: pl.Expr, value: pl.Expr, start: str) -> pl.Expr:
    """A running sum restarted at every `start` row (`running`: the sum over all rows so far)."""
    return running - _at_start(running - value, start)


@rule(
    "PROGRESS-REPORT-LATE",
    action="educate",
    title="Treatment past the 10th treatment day without a progress report",
    severity="error",
    citation=(
        "CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 §220.3 D (a clinician's "
        "progress report at least once every 10 treatment days; an assistant's report does not "
        "take its place)"
    ),
    params=(
        Param(
            "max_treatment_days",
            10,
            "treatment days allowed after an evaluation, re-evaluation or progress report "
            "before the next report is due",
            minimum=1,
            maximum=365,
        ),
        Param(
            "report_types",
            ["evaluation", "re-evaluation", "progress", "discharge"],
            "note types (notes' note_type) that start a new reporting period (a clinician's "
            "discharge note is a progress report for the period it closes, §220.3 D)",
            pattern=any_case(NOTE_TYPES),
        ),
        Param(
            "assistant_roles",
            ["PTA", "OTA", "SLPA"],
            "provider roles (providers export) whose progress report does not start a new "
            "reporting period",
            pattern=any_case(ROLES),
        ),
    ),
    needs=("notes.note_type",),
)
def progress_report_late(
    data: AuditData,
    *,
    max_treatment_days: int,
    report_types: list[str],
    assistant_roles: list[str],
) -> pl.LazyFrame:
    """Per patient and plan discipline (PT, OT, SLP), the billed lines of each treatment day
    after the `max_treatment_days`-th since the last evaluation, re-evaluation or progress
    note (notes' `note_type`): treatment days are the days with a billed line of that
    discipline, counted from the evaluation's own day (the first day of the episode is day 1 of
    the first period, §220.3 D) and after a re-evaluation's or progress report's day; a day with
    a report starts the count anew.
    With the providers export, a report written by an assistant (PTA, OTA, SLPA) starts no new
    period (an assistant may write elements of the report between the clinician's reports; only
    the lack of a clinician's report in the period is a breach), and the evidence names it.

    Days before the first report in the export are not judged (the evaluation may predate the
    export). A missing progress report leaves the services past it without the documentation
    §220.3 D requires, which a reviewer may deny, so the whole line is put at risk (an
    estimate: a later report or other records may still support them); Medicare profile only
    by default. Needs notes' note_type.
    """
    kinds = [k.lower() for k in report_types]
    reports = data.notes.filter(pl.col("note_type").str.to_lowercase().is_in(kinds))
    if data.providers is not None:
        roles = [r.upper() for r in assistant_roles]
        authors = data.providers.filter(pl.col("role").is_in(roles)).select(
            pl.col("npi").alias("provider_npi"), by_assistant=pl.lit(True)
        )
        reports = reports.join(authors.unique("provider_npi"), on="provider_npi", how="left")
    else:
        reports = reports.with_columns(by_assistant=pl.lit(None, dtype=pl.Boolean))
    reports = reports.select(
        "patient_id",
        "service_date",
        "discipline",
        by_assistant=pl.col("by_assistant").fill_null(False),
        opens=pl.col("note_type").str.to_lowercase() == "evaluation",
    ).cache()
    # a report of unknown discipline stands for every discipline treated that day
    treated = (
        data.lines.filter((pl.col("units") > 0) & pl.col("discipline").is_in(THERAPY))
        .join(reports.select("patient_id").unique(), on="patient_id", how="semi")
        .select(DAY)
        .unique()
        .cache()
    )
    known = reports.filter(pl.col("discipline").is_not_null())
    unknown = reports.filter(pl.col("discipline").is_null()).drop("discipline")
    spread = treated.join(unknown, on=["patient_id", "service_date"], how="inner")
    report_days = (
        pl.concat(
            [
                known.select(*DAY, "by_assistant", "opens"),
                spread.select(*DAY, "by_assistant", "opens"),
            ]
        )
        .group_by(DAY)
        .agg(
            anchor=(~pl.col("by_assistant")).any(),
            by_assistant=pl.col("by_assistant").any(),
            opens=(pl.col("opens") & ~pl.col("by_assistant")).any(),
        )
    )
    days = (
        treated.with_columns(treat=pl.lit(1, dtype=pl.Int64))
        .join(report_days, on=DAY, how="full", coalesce=True)
        .with_columns(
            pl.col("treat").fill_null(0),
            pl.col("anchor").fill_null(False),
            pl.col("by_assistant").fill_null(False),
            pl.col("opens").fill_null(False),
        )
        .sort(*DAY)
        # one masked pass over the sorted days instead of windows over millions of small groups
        .with_columns(
            _first=pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift(1)) for k in KEY)
        )
        .with_columns(_start=pl.col("_first") | pl.col("anchor"))
        .with_columns(
            # reports so far in the patient's discipline: 0 before the first clinician's report
            period=_since(pl.col("anchor").cast(pl.Int64).cum_sum(), pl.col("anchor"), "_first"),
            # treatment days after the period's report day (the first row of its period); an
            # evaluation opening the episode is itself day 1 (§220.3 D: the first period begins on
            # the episode's first day, whatever the service; later ones the day after the report)
            count=_since(pl.col("treat").cum_sum(), pl.col("treat"), "_start")
            - _at_start(pl.col("treat") * (~pl.col("opens")).cast(pl.Int64), "_start"),
            last_report=_at_start(pl.col("service_date"), "_start"),
        )
        # before the first clinician's report nothing is counted
        .with_columns(
            pl.when(pl.col("period") > 0).then(pl.col("count", "last_report")).name.keep()
        )
    )
    late = ((pl.col("treat") == 1) & (pl.col("count") > max_treatment_days)).fill_null(False)
    # an assistant may write elements of a progress report (§220.3 D): its day is no breach, it
    # only does not restart the count
    bad_days = days.filter(late).select(
        *DAY, "count", "last_report", late=late, by_assistant=pl.col("by_assistant")
    )
    lines = billed_lines(data).join(bad_days, on=DAY, how="inner")
    why = pl.format(
        "treatment day {} since the last evaluation or progress report on {}{}",
        pl.col("count"),
        pl.col("last_report").dt.to_string("%Y-%m-%d"),
        pl.when(pl.col("by_assistant"))
        .then(pl.lit(" (this day's report, by an assistant, does not restart the count)"))
        .otherwise(pl.lit("")),
    )
    return rule_output(
        lines,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.format(
            "{} {} line: {} (a clinician's progress report is due at least every {} treatment "
            "days).",
            pl.col("procedure_code"),
            pl.col("discipline"),
            why,
            pl.lit(max_treatment_days),
        ),
        evidence=pl.format(
            "discipline={}; last report={}; treatment days since={}; report by assistant={}",
            pl.col("discipline"),
            pl.col("last_report").dt.to_string("%Y-%m-%d").fill_null("none in the export"),
            pl.col("count").cast(pl.String).fill_null("not counted"),
            pl.col("by_assistant"),
        ),
    )
