"""Time rules: timed and per-session services need valid start and end times in their notes;
psychotherapy time codes need documented minutes within their range."""

from __future__ import annotations

import polars as pl

from checks.base import (
    LINE_KEY,
    MATCH_KEY,
    NULL_INT,
    AuditData,
    billed_lines,
    clock,
    documents_line,
    rule_output,
)
from checks.declare import Param, rule
from schemas.contract import PROCEDURE_CODE_PATTERN

units_col = pl.col("units")
code_col = pl.col("procedure_code")


@rule(
    "TIME-MISSING",
    action="educate",
    needs=("notes",),
    applies_to=("timed", "per_session"),
    title="Session note lacks start or end time",
    severity="warning",
    citation=(
        "State Medicaid provider manuals and Medicaid Integrity Program review criteria (2025: "
        "start and end times); CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 "
        "§220.3 (treatment notes: total timed-code minutes and total treatment time, no clock "
        "times)"
    ),
    params=(
        Param(
            "timed_severity",
            "warning",
            "severity for a timed code with documented minutes (Medicare info, Medicaid error)",
        ),
        Param("per_session_severity", "error", "severity for per-session codes"),
        Param("minutes_missing_severity", "error", "severity when minutes are missing too"),
    ),
)
def time_missing(
    data: AuditData,
    *,
    timed_severity: str,
    per_session_severity: str,
    minutes_missing_severity: str,
) -> pl.LazyFrame:
    """Billed timed or per-session line whose matching note lacks a start or end time.

    Severity per finding: a per-session code takes `per_session_severity`
    (state manuals need the session's start and end to show it qualifies); a note that lacks the
    minutes too (ingest derives minutes from start and end when both exist, so these are truly
    missing) takes `minutes_missing_severity`; any other timed code takes `timed_severity`:
    info under Medicare, whose treatment notes need the total timed-code minutes and total
    treatment time but not clock times (Pub. 100-02 ch. 15 §220.3), so the line is no
    compliance finding; an error under Medicaid, whose manuals and integrity reviews require
    start and end times.

    Money follows severity: an error means the documentation does not support the service, so
    the whole line is at risk; a warning or info is a documentation note while the documented
    minutes still support the units (UNITS-8MIN judges them), so it puts no money at risk.
    """
    lines = billed_lines(data).filter(
        pl.col("code_class").is_in(["timed", "per_session"])
        & pl.col("note_rows").is_not_null()
        & (pl.col("rows_times_missing") > 0)
    )
    per_session = pl.col("code_class") == "per_session"
    minutes_missing = pl.col("rows_minutes_missing") > 0
    severity = (
        pl.when(per_session)
        .then(pl.lit(per_session_severity))
        .when(minutes_missing)
        .then(pl.lit(minutes_missing_severity))
        .otherwise(pl.lit(timed_severity))
    )
    whole_line = severity == "error"
    what = (
        pl.when(minutes_missing)
        .then(pl.lit("a start or end time and the minutes"))
        .otherwise(pl.lit("a start or end time"))
    )
    why = (
        pl.when(per_session)
        .then(pl.lit(", which a per-session service needs to show the session qualified."))
        .when(minutes_missing)
        .then(pl.lit(", so nothing documents how long the service lasted."))
        .when(whole_line)
        .then(pl.lit(", which this payer requires for every session."))
        .when(severity == "info")
        .then(pl.lit(", noted only: this payer needs the documented minutes, not clock times."))
        .otherwise(pl.lit(", though the documented minutes still support the units."))
    )
    rows = pl.col("note_rows")
    return rule_output(
        lines,
        supported=pl.when(whole_line).then(NULL_INT).otherwise(units_col),
        excess=pl.when(whole_line).then(NULL_INT).otherwise(pl.lit(0, dtype=pl.Int64)),
        message=pl.format(
            "{} was billed but {} of {} matching note {} lacks {}{}",
            code_col,
            pl.col("rows_times_missing"),
            rows,
            pl.when(rows == 1).then(pl.lit("row")).otherwise(pl.lit("rows")),
            what,
            why,
        ),
        evidence=pl.format(
            "notes={}; rows without start/end={}; rows without minutes={}; minutes={}; "
            "start={}; end={}",
            pl.col("note_ids"),
            pl.col("rows_times_missing"),
            pl.col("rows_minutes_missing"),
            pl.col("note_minutes").cast(pl.String).fill_null("none"),
            clock(pl.col("note_start")).fill_null("none"),
            clock(pl.col("note_end")).fill_null("none"),
        ),
        severity=severity,
    )


@rule(
    "TIME-INVALID",
    action="review",
    needs=("notes",),
    title="Session times are impossible or disagree with the minutes",
    severity="error",
    citation="CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 §220.3",
    params=(
        Param("max_span_minutes", 240, "longest plausible single service", minimum=1, maximum=1440),
        Param(
            "minutes_tolerance",
            2,
            "allowed difference between minutes and end - start",
            minimum=0,
            maximum=60,
        ),
    ),
)
def time_invalid(data: AuditData, *, max_span_minutes: int, minutes_tolerance: int) -> pl.LazyFrame:
    """End at or before start, a span over the maximum, or minutes disagreeing with the times.

    Checked on every matched note row of the line, any code class; one finding per line names
    every bad row. Times that cannot be true do not document the service, so the whole line is
    at risk (Pub. 100-02 ch. 15 §220.3: billed units must be consistent with the documented time). A
    session crossing midnight is recorded as ending before it starts and is flagged for review.
    """
    lines = billed_lines(data).select(*LINE_KEY, *MATCH_KEY, "discipline")
    start, end, minutes = pl.col("start_time"), pl.col("end_time"), pl.col("minutes")
    both = start.is_not_null() & end.is_not_null()
    # seconds since midnight: Time is nanoseconds since midnight
    span_s = (end.cast(pl.Int64) - start.cast(pl.Int64)) // 1_000_000_000
    span_min = span_s / 60
    span_text = (
        pl.when(span_s % 60 == 0)
        .then((span_s // 60).cast(pl.String))
        .otherwise(span_min.round(1).cast(pl.String))
    )
    reversed_ = both & (end <= start)
    too_long = both & ~reversed_ & (span_min > max_span_minutes)
    disagree = (
        both & ~reversed_ & minutes.is_not_null() & ((minutes - span_min).abs() > minutes_tolerance)
    )
    reasons = pl.concat_list(
        pl.when(reversed_).then(pl.lit("ends at or before it starts")),
        pl.when(too_long).then(
            pl.format("spans {} minutes, over the {}-minute maximum", span_text, max_span_minutes)
        ),
        pl.when(disagree).then(
            pl.format("records {} minutes but its times span {}", minutes, span_text)
        ),
    ).list.drop_nulls()
    # the cheap tests pick the few bad note rows first; texts are built for those only
    bad_notes = data.notes.filter(reversed_ | too_long | disagree)
    rows = (
        lines.join(bad_notes, on=list(MATCH_KEY), how="inner", suffix="_note")
        # the line's own notes only: a PT line is documented by PT notes (checks/matching.py)
        .filter(documents_line(pl.col("discipline_note")))
        .with_columns(reasons=reasons)
        .with_columns(
            row_text=pl.format(
                "{} {}–{} minutes={} ({})",
                pl.col("note_id"),
                clock(start),
                clock(end),
                minutes.cast(pl.String).fill_null("none"),
                pl.col("reasons").list.join(", "),
            )
        )
    )
    per_line = rows.group_by(LINE_KEY).agg(
        procedure_code=code_col.first(),
        n_rows=pl.len(),
        # in the order of the rows' texts (by note id), not the order the rows came in
        reasons=pl.col("reasons")
        .sort_by("row_text")
        .list.explode(keep_nulls=False, empty_as_null=False)
        .unique(maintain_order=True),
        row_text=pl.col("row_text").sort().str.join("; "),
    )
    # "the note ends …" for one bad row; "a note ends …; a note records …" for several
    subject = pl.when(pl.col("n_rows") == 1).then(pl.lit("the note")).otherwise(pl.lit("a note"))
    return rule_output(
        per_line,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.format(
            "The session times documenting this {} line cannot be right: {} {}.",
            code_col,
            subject,
            pl.col("reasons").list.join(pl.format("; {} ", subject)),
        ),
        evidence=pl.format(
            "notes={}; max span={} min; tolerance={} min",
            pl.col("row_text"),
            pl.lit(max_span_minutes),
            pl.lit(minutes_tolerance),
        ),
    )


# psychotherapy with an evaluation and management visit: the add-on codes of the time codes
ADDON_CODES = frozenset({"90833", "90836", "90838"})
PSYCHOTHERAPY_MIN = {"90832": 16, "90833": 16, "90834": 38, "90836": 38, "90837": 53, "90838": 53}
PSYCHOTHERAPY_MAX = {"90832": 37, "90833": 37, "90834": 52, "90836": 52}


@rule(
    "TIME-PSYCHOTHERAPY",
    action="correct",
    title="Psychotherapy time code outside its documented-minutes range",
    severity="error",
    citation=(
        "AMA CPT (2025) psychotherapy time rules (90832 16-37 min, 90834 38-52 min, 90837 53 min "
        "or more; add-ons 90833, 90836, 90838 alike; the time is face-to-face with the patient and"
        " must be documented)"
    ),
    params=(
        Param(
            "min_minutes",
            PSYCHOTHERAPY_MIN,
            "code -> fewest documented minutes it needs",
            pattern=PROCEDURE_CODE_PATTERN,
            minimum=0,
            maximum=1440,
        ),
        Param(
            "max_minutes",
            PSYCHOTHERAPY_MAX,
            "code -> most minutes before a longer code fits",
            pattern=PROCEDURE_CODE_PATTERN,
            minimum=0,
            maximum=1440,
        ),
        Param("above_severity", "info", "severity when the minutes exceed the code's range"),
    ),
    needs=("notes.minutes",),
)
def time_psychotherapy(
    data: AuditData,
    *,
    min_minutes: dict[str, int],
    max_minutes: dict[str, int],
    above_severity: str,
) -> pl.LazyFrame:
    """Billed psychotherapy time code whose matched notes document fewer minutes than the
    code's range (90832 and 90833 16-37, 90834 and 90836 38-52, 90837 and 90838 53 or more),
    or none at all; or more than its range (a shorter code was billed: `above_severity`).

    Too few minutes do not support the code, so the whole line is at risk (the evidence names
    the code the minutes would support); more minutes than the range is noted only, with no
    money at risk. A line with no note at all is DOC-NO-NOTE's. Needs notes' minutes.
    """
    codes = sorted(min_minutes)
    lines = billed_lines(data).filter(code_col.is_in(codes) & pl.col("note_rows").is_not_null())
    low = code_col.replace_strict(min_minutes, default=None, return_dtype=pl.Int64)
    high = code_col.replace_strict(max_minutes, default=None, return_dtype=pl.Int64)
    minutes = pl.col("note_minutes")
    below = minutes.is_null() | (minutes < low)
    above = (minutes > high).fill_null(False)
    # the code of the same family (stand-alone or add-on) the minutes fit, for the evidence
    family = {
        c: sorted(k for k in codes if (k in ADDON_CODES) == (c in ADDON_CODES)) for c in codes
    }
    fits = pl.lit(None, dtype=pl.String)
    for code in codes:
        hi = max_minutes.get(code)
        in_range = (minutes >= min_minutes[code]) & (pl.lit(True) if hi is None else minutes <= hi)
        same_family = code_col.is_in(family[code])
        fits = pl.when(same_family & in_range).then(pl.lit(code)).otherwise(fits)
    flagged = lines.filter(below | above).with_columns(
        _low=low, _high=high, _below=below, _fits=fits
    )
    # too few minutes: the rule's severity in the profile (null is filled by the engine)
    severity = pl.when(~pl.col("_below")).then(pl.lit(above_severity))
    range_text = pl.format(
        "{}-{}", pl.col("_low"), pl.col("_high").cast(pl.String).fill_null("")
    ).str.replace(r"-$", " or more")
    return rule_output(
        flagged,
        supported=pl.when(pl.col("_below")).then(NULL_INT).otherwise(units_col),
        excess=pl.when(pl.col("_below")).then(NULL_INT).otherwise(pl.lit(0, dtype=pl.Int64)),
        message=pl.format(
            "{} needs {} documented minutes but its notes document {}.",
            code_col,
            range_text,
            pl.col("note_minutes").cast(pl.String).fill_null("none"),
        ),
        evidence=pl.format(
            "notes={}; minutes={}; range={}; the minutes fit={}",
            pl.col("note_ids"),
            pl.col("note_minutes").cast(pl.String).fill_null("none"),
            range_text,
            pl.col("_fits").fill_null("no psychotherapy code"),
        ),
        severity=severity,
    )
