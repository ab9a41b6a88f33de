"""Overlap rules: the same minutes billed twice, one therapist with two patients at once, and
implausible daily totals. Interval overlaps are found by sorting, never by an all-pairs join
(checks/intervals.py)."""

from __future__ import annotations

import polars as pl

from checks.attribution import attributed_excess
from checks.base import LINE_ID, MATCH_KEY, SERVICE_ID, AuditData, billed_lines, documents_line
from checks.declare import Param, rule
from checks.intervals import (
    groups_with_overlap,
    hhmm,
    overlap_with_earlier,
    overlap_with_other_party,
    timed_intervals,
)

_OUT = ("claim_id", "line_number", "supported_units", "excess_units", "message", "evidence")


def _on_lines(data: AuditData, per_service: pl.LazyFrame, sums: tuple[str, ...]) -> pl.LazyFrame:
    """The billed lines each with what `per_service` (per MATCH_KEY and note discipline:
    `involved`, `pairs` and the `sums` columns) says of the notes documenting it: a PT line's
    are the PT notes and those of unknown discipline (checks/matching.py)."""
    per_line = (
        billed_lines(data)
        .select(LINE_ID, *MATCH_KEY, "discipline")
        .join(per_service, on=list(MATCH_KEY), how="inner", suffix="_note")
        .filter(documents_line(pl.col("discipline_note")))
        .group_by(LINE_ID)
        .agg(
            *(pl.col(c).sum() for c in sums),
            pl.col("involved").str.split(";").explode().unique().sort().str.join(";"),
            pl.col("pairs").filter(pl.col("pairs") != "").sort().str.join("; "),
        )
    )
    return billed_lines(data).join(per_line, on=LINE_ID, how="inner")


@rule(
    "OVERLAP-TIMED",
    action="refund",
    needs=("notes",),
    applies_to=("timed",),
    title="Overlapping one-on-one timed services for one patient (97530/97110)",
    severity="error",
    citation=(
        "CMS Medicare Claims Processing Manual, Pub. 100-04 (2024), Ch. 5 §20.2 (timed codes need "
        "distinct, separately documented time)"
    ),
    params=(
        Param("unit_minutes", 15, "minutes in one timed unit", minimum=1, maximum=60),
        Param("min_minutes", 8, "fewest minutes that support one unit", minimum=1, maximum=60),
    ),
)
def overlap_timed(data: AuditData, *, unit_minutes: int, min_minutes: int) -> pl.LazyFrame:
    """One-on-one timed services of one patient and day whose documented intervals overlap.

    Two one-on-one timed codes (e.g. 97530 and 97110, or the same code twice) may be billed on
    one day only for distinct, separately documented time (Pub. 100-04 ch. 5 §20.2). Note rows
    with start and end times are sorted by start per patient and day; the service that starts
    later loses the minutes it shares with earlier ones (touching times do not overlap). The
    line's distinct minutes are its documented minutes (the notes' minutes, else the length of
    its timed intervals) less its shared minutes, and support units by the 8-minute rule: 0
    below `min_minutes`, else floor((minutes + unit_minutes - min_minutes) / unit_minutes). The
    finding is reported even when the distinct minutes still support every unit billed (no
    money at risk then), since the same minutes were documented twice.
    """
    day = ["patient_id", "service_date"]
    intervals = timed_intervals(data.notes, data.codes.one_on_one)
    # days with shared minutes are a few percent: a narrow sweep finds them, the full one
    # (partners, evidence) runs on them alone
    busy = groups_with_overlap(intervals, day)
    rows = overlap_with_earlier(intervals.join(busy, on=day, how="semi"), day).cache()
    # ... and of those, only the (patient, date, code) keys with shared minutes are kept
    hit = rows.filter(pl.col("overlap") > 0).select(MATCH_KEY).unique()
    rows = rows.join(hit, on=list(MATCH_KEY), how="semi")
    pair = pl.format(
        "{} {}–{} overlaps {} {}–{} ({} min)",
        pl.col("partner_code"),
        hhmm(pl.col("partner_s")),
        hhmm(pl.col("partner_e")),
        pl.col("procedure_code"),
        hhmm(pl.col("s")),
        hhmm(pl.col("e")),
        pl.col("overlap"),
    )
    shared = pl.col("overlap") > 0
    per_service = (
        rows.with_columns(_pair=pl.when(shared).then(pair).otherwise(None))
        .group_by(*MATCH_KEY, "discipline")
        .agg(
            shared_minutes=pl.col("overlap").sum(),
            interval_minutes=(pl.col("e") - pl.col("s")).sum(),
            involved=pl.col("note_id")
            .filter(shared)
            .append(pl.col("partner_note").filter(shared))
            .unique()
            .sort()
            .str.join(";"),
            pairs=pl.col("_pair").drop_nulls().sort().str.join("; "),
        )
        .filter(pl.col("shared_minutes") > 0)
    )
    documented = pl.coalesce("note_minutes", "interval_minutes")
    distinct = documented - pl.min_horizontal("shared_minutes", documented)
    supported = (
        pl.when(pl.col("distinct") < min_minutes)
        .then(0)
        .otherwise((pl.col("distinct") + unit_minutes - min_minutes) // unit_minutes)
    )
    # each payer type's claims carry their own units (a dual-eligible's session on a Medicare and
    # a Medicaid claim), as in the unit rules
    code = [*MATCH_KEY, "discipline", "payer_type"]
    return (
        _on_lines(data, per_service, ("shared_minutes", "interval_minutes"))
        .with_columns(
            shared=pl.min_horizontal("shared_minutes", documented),
            distinct=distinct,
        )
        .with_columns(
            supported=supported.cast(pl.Int64),
            billed=pl.col("units").sum().over(code).cast(pl.Int64),
        )
        # units of one patient, date, code, discipline and payer type are pooled across claim
        # lines and the excess is charged to the later-billed line first, as the unit rules do
        # (checks/attribution.py)
        .with_columns(
            excess_units=attributed_excess(
                (pl.col("billed") - pl.col("supported")).clip(lower_bound=0), key=code
            )
        )
        .with_columns(supported_units=(pl.col("units") - pl.col("excess_units")).cast(pl.Int64))
        .with_columns(
            message=pl.format(
                "{} minutes of this {} service are also documented under another one-on-one "
                "service for the same patient at the same time, leaving {} distinct minutes, "
                "which support {} of the {} units billed.",
                pl.col("shared"),
                pl.col("procedure_code"),
                pl.col("distinct"),
                pl.min_horizontal("supported", "billed"),
                pl.col("billed"),
            ),
            evidence=pl.format("notes={}; {}", pl.col("involved"), pl.col("pairs")),
        )
        .select(_OUT)
    )


@rule(
    "OVERLAP-PROVIDER",
    action="correct",
    needs=("notes",),
    applies_to=("timed",),
    title="One therapist's one-on-one services for two patients at the same time",
    severity="error",
    citation=(
        "CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 §220.2 (one-on-one vs. "
        "group 97150)"
    ),
    params=(
        Param("min_overlap_minutes", 1, "shortest overlap that counts", minimum=1, maximum=1440),
    ),
    provider_scope=True,
)
def overlap_provider(data: AuditData, *, min_overlap_minutes: int) -> pl.LazyFrame:
    """One provider's one-on-one timed services for different patients with overlapping times.

    One-on-one timed services by the same therapist for two patients at the same time are not
    one-on-one: at most group therapy (97150) could be billed for each (Pub. 100-02
    ch. 15 §220.2). The note's provider and the note's times are used, over every
    note of every payer; a note row is flagged when it shares at least `min_overlap_minutes`
    with the (merged) documented time of another patient of the same provider and day, and the
    claim lines of BOTH patients matching flagged rows are reported as whole-line findings.
    The comparison is exact (every pair of notes of the provider and day is considered); with
    `min_overlap_minutes` above 1 the shared time may be made of several touching or
    overlapping notes of the other patient, none of which alone reaches the minimum.
    """
    day = ["provider_npi", "service_date"]
    # not cached: filtering the notes again costs less than holding every interval twice
    rows = timed_intervals(data.notes, data.codes.one_on_one)
    # a provider-day can hold a cross-patient overlap only if it holds any overlap at all: one
    # cheap sweep finds those days (a few percent) and the exact sweep runs on them alone
    busy = groups_with_overlap(rows, day)
    flagged = overlap_with_other_party(
        rows.join(busy, on=day, how="semi"), day, "patient_id", min_overlap_minutes
    )
    per_service = flagged.group_by(*MATCH_KEY, "discipline").agg(
        involved=pl.col("note_id")
        .append(pl.col("partner_notes").str.split(";").explode())
        .unique()
        .sort()
        .str.join(";"),
        pairs=pl.format(
            "{}–{} overlaps another patient's {}–{} ({} min, provider {})",
            hhmm(pl.col("s")),
            hhmm(pl.col("e")),
            hhmm(pl.col("partner_s")),
            hhmm(pl.col("partner_e")),
            pl.col("overlap"),
            pl.col("provider_npi"),
        )
        .unique()
        .sort()
        .str.join("; "),
    )
    return (
        _on_lines(data, per_service, ())
        .with_columns(
            supported_units=pl.lit(None, dtype=pl.Int64),
            excess_units=pl.lit(None, dtype=pl.Int64),
            message=pl.format(
                "The therapist documented this {} one-on-one service at the same time as a "
                "one-on-one service for another patient, so at most group therapy (97150) "
                "could be billed for it.",
                pl.col("procedure_code"),
            ),
            evidence=pl.format("notes={}; {}", pl.col("involved"), pl.col("pairs")),
        )
        .select(_OUT)
    )


@rule(
    "OVERLAP-DAY-CAP",
    action="review",
    applies_to=("timed",),
    title="Provider billed more timed minutes in a day than the cap",
    severity="warning",
    citation=(
        "OIG report OEI-04-09-00540, Questionable Billing for Medicare Outpatient Therapy Services"
        " (2010): more than 8 hours of therapy a day"
    ),
    params=(
        Param(
            "cap_minutes",
            480,
            "most timed minutes one provider can plausibly bill in a day",
            minimum=1,
            maximum=1440,
        ),
        Param("unit_minutes", 15, "minutes in one timed unit", minimum=1, maximum=60),
    ),
    provider_scope=True,
)
def overlap_day_cap(data: AuditData, *, cap_minutes: int, unit_minutes: int) -> pl.LazyFrame:
    """A provider's billed timed minutes in one day above the cap.

    OIG OEI-04-09-00540 treats more than 8 hours of therapy billed by one provider in a day as
    questionable (state reviews used 12 hours). Billed minutes are units x
    `unit_minutes` of the timed lines of the claim's rendering provider and date, over every
    payer; a service billed to two payer types (a dual-eligible's session on a Medicare and a
    Medicaid claim) is the provider's time once, counted on the payer type billing the most of
    its units. The day's lines are taken in the order of their notes' start times (lines without
    times last, then by claim and line number); the lines whose running total exceeds
    `cap_minutes` are the minutes beyond the cap and are reported as whole lines, every payer's
    claim of such a session among them. Exactly `cap_minutes` is not reported.
    """
    g = ["rendering_npi", "service_date"]
    billed = pl.col("units") * unit_minutes
    timed = data.lines.filter((pl.col("code_class") == "timed") & (pl.col("units") > 0)).cache()
    # only the provider-days over the cap on every line's minutes (a few) are sorted into their
    # running totals, each service counted once
    over = (
        timed.group_by(g).agg(billed.sum().alias("_total")).filter(pl.col("_total") > cap_minutes)
    )
    service = [*g, SERVICE_ID]
    # one window per step: a window nested in another's expression runs once per group
    return (
        timed.join(over.select(g), on=g, how="semi")
        .sort([*g, "note_start", "claim_id", "line_number"], nulls_last=True)
        .with_columns(_payer_units=pl.col("units").sum().over([*service, "payer_type"]))
        .with_columns(_most=pl.col("_payer_units").max().over(service))
        .with_columns(
            _counting=pl.when(pl.col("_payer_units") == pl.col("_most"))
            .then(pl.col("payer_type"))
            .min()
            .over(service)
        )
        .with_columns(
            _counted=pl.when(pl.col("payer_type") == pl.col("_counting")).then(billed).otherwise(0)
        )
        .with_columns(
            running=pl.col("_counted").cum_sum().over(g),
            day_total=pl.col("_counted").sum().over(g),
        )
        # another payer's claim of a session goes with the claim that counts it, wherever it
        # sorts: past the cap when that claim's running total is
        .with_columns(
            _past=pl.when(pl.col("_counted") > 0)
            .then(pl.col("running"))
            .otherwise(pl.when(pl.col("_counted") > 0).then(pl.col("running")).max().over(service))
        )
        .filter(pl.col("in_scope") & (pl.col("_past") > cap_minutes))
        .with_columns(
            supported_units=pl.lit(None, dtype=pl.Int64),
            excess_units=pl.lit(None, dtype=pl.Int64),
            message=pl.when(pl.col("_counted") > 0)
            .then(
                pl.format(
                    "This line brings the rendering provider's timed minutes billed on this day "
                    "to {}, beyond the {}-minute daily cap ({} minutes billed that day in all).",
                    pl.col("running"),
                    pl.lit(cap_minutes),
                    pl.col("day_total"),
                )
            )
            .otherwise(
                pl.format(
                    "This line bills again a session counted on the {} claim, whose minutes "
                    "bring the rendering provider's day to {}, beyond the {}-minute daily cap "
                    "({} minutes billed that day in all).",
                    pl.col("_counting"),
                    pl.col("_past"),
                    pl.lit(cap_minutes),
                    pl.col("day_total"),
                )
            ),
            evidence=pl.format(
                "provider={}; day total {} min; running total {} min; cap {} min",
                pl.col("rendering_npi"),
                pl.col("day_total"),
                pl.when(pl.col("_counted") > 0)
                .then(pl.format("{}→{}", pl.col("running") - pl.col("_counted"), pl.col("running")))
                .otherwise(pl.format("{} on the {} claim", pl.col("_past"), pl.col("_counting"))),
                pl.lit(cap_minutes),
            ),
        )
        .select(_OUT)
    )
