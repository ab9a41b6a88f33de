"""Inject violations into a clean synthetic practice and label every line they affect.

Each injection is placed so that it triggers exactly its own rule (whose citation is in the rule
catalogue); the labels are derived from the final frames, so they are the ground truth the
end-to-end tests hold the audit to (precision and recall 1.0):

| injection | where | rule, excess |
|---|---|---|
| inflate | first timed line of a normal visit, +1 or +2 units | UNITS-8MIN, k |
| untimed twice | 97010 or H2032 line billed 2 units | UNITS-UNTIMED, 1 |
| MUE visit | 97112 x 5 units, 75 minutes documented | UNITS-MUE, 1 |
| short session | H2032 session of 20-29 minutes | UNITS-SESSION-MIN, 1 |
| overlap visit | 97110 starts 15 min before 97530 ends | OVERLAP-TIMED on 97110, 1 |
| double booking | a provider's last visit starts inside the one before | OVERLAP-PROVIDER |
| long day | nine one-hour visits: the ninth passes 480 minutes | OVERLAP-DAY-CAP |
| no plan | a patient without any plan of care | POC-MISSING, whole |
| truncated plan | cert_end 20 days early, no recertification | POC-EXPIRED, whole |
| unsigned / late | never signed / signed 31-45 days after first treatment | POC-UNSIGNED |
| sent late | unsigned; signed order, plan sent 31-45 days after first treatment | POC-UNSIGNED |
| times missing | start and end blank (sometimes minutes too) | TIME-MISSING |
| times invalid | start and end swapped, or minutes 10 off the span | TIME-INVALID, whole |
| no note | a line's note row removed | DOC-NO-NOTE, whole |
| OT co-treatment | 2 units for 15 minutes on the PT visit's code (covisits.py) | UNITS-8MIN, 1 |
| unsigned note | a line's note with no signature | DOC-NOTE-UNSIGNED, whole |
| late note | a line's note signed 8-20 days after the service | DOC-NOTE-UNSIGNED, 0 (warning) |
| short psychotherapy | 90837 (53 minutes or more) for 45 minutes | TIME-PSYCHOTHERAPY, whole |
| add-on alone | an OT visit of 97130 without 97129 | ADDON-NO-PRIMARY, whole |

The Medicare billing injections (modifiers, assistants, progress reports, KX) are in
flows/synth/billing.py. Clean psychotherapy sessions document 53-60 minutes for 90837, and clean
cognitive visits bill 97130 after its primary 97129.

Clean plans are signed within 20 days of their first treatment, or certified by a signed order
and the plan sent in time (flows/synth/orders.py).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from flows.synth.notes_text import note_text
from flows.synth.orders import order_path
from flows.synth.practice import (
    ADDON_ALONE,
    BOOK_FIRST,
    BOOK_SECOND,
    CAP,
    MUE,
    NORMAL,
    OVERLAP,
    PSY_SHORT,
    SESSION_SHORT,
    Rates,
    workdays,
)

TIMED = ("97110", "97112", "97116", "97140", "97530", "97535", "H2014")
LABEL_SCHEMA = pl.Schema(
    {
        "claim_id": pl.String(),
        "line_number": pl.Int64(),
        "rule_id": pl.String(),
        "severity": pl.String(),
        "excess_units": pl.Int64(),
        "amount_at_risk": pl.Float64(),
        "injection": pl.String(),
    }
)


def _whole(excess: pl.Expr | None = None) -> pl.Expr:
    return pl.lit(None, dtype=pl.Int64) if excess is None else excess.cast(pl.Int64)


def inject_visits(rng: np.random.Generator, lines: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    """Choose one visit-level injection per eligible normal visit; mark the line it hits."""
    per_visit = lines.group_by("visit").agg(
        normal=(pl.col("kind") == NORMAL).all(),
        first_timed=pl.col("line_number").filter(pl.col("procedure_code").is_in(TIMED)).min(),
        first_doc=pl.col("line_number")
        .filter(pl.col("procedure_code").is_in((*TIMED, "H2032")))
        .min(),
        untimed_line=pl.col("line_number")
        .filter(pl.col("procedure_code").is_in(("97010", "H2032")))
        .min(),
        n_lines=pl.len(),
    )
    per_visit = per_visit.sort("visit")
    r = rng.random(per_visit.height)
    pick = rng.random(per_visit.height)
    variant = rng.random(per_visit.height)
    per_visit = per_visit.with_columns(
        r=pl.Series(r), pick=pl.Series(pick), variant=pl.Series(variant)
    )
    normal = pl.col("normal")
    # cumulative thresholds: one draw per visit picks at most one injection
    t1 = rates.inflate
    t2 = t1 + rates.untimed_twice
    t3 = t2 + rates.times_missing
    t4 = t3 + rates.times_invalid
    t5 = t4 + rates.no_note
    t6 = t5 + rates.unsigned_note
    t7 = t6 + rates.late_note
    inj = (
        pl.when(normal & pl.col("first_timed").is_not_null() & (pl.col("r") < t1))
        .then(pl.lit("inflate"))
        .when(normal & pl.col("untimed_line").is_not_null() & (pl.col("r") < t2))
        .then(pl.lit("untimed_twice"))
        .when(normal & pl.col("first_doc").is_not_null() & (pl.col("r") < t3))
        .then(pl.lit("times_missing"))
        .when(normal & pl.col("first_timed").is_not_null() & (pl.col("r") < t4))
        .then(pl.lit("times_invalid"))
        .when(normal & (pl.col("r") < t5))
        .then(pl.lit("no_note"))
        .when(normal & (pl.col("r") < t6))
        .then(pl.lit("unsigned_note"))
        .when(normal & (pl.col("r") < t7))
        .then(pl.lit("late_note"))
        .otherwise(None)
    )
    target = (
        pl.when(pl.col("injection").is_in(("inflate", "times_invalid")))
        .then(pl.col("first_timed"))
        .when(pl.col("injection") == "untimed_twice")
        .then(pl.col("untimed_line"))
        .when(pl.col("injection") == "times_missing")
        .then(pl.col("first_doc"))
        .when(pl.col("injection").is_in(("no_note", "unsigned_note", "late_note")))
        .then((pl.col("pick") * pl.col("n_lines")).floor().cast(pl.Int64) + 1)
    )
    chosen = (
        per_visit.with_columns(injection=inj)
        .with_columns(target=target.cast(pl.Int64))
        .filter(pl.col("injection").is_not_null())
        .select(
            "visit",
            pl.col("target").alias("line_number"),
            "injection",
            # inflate: +1 or +2 units; times_missing: minutes blank too; times_invalid: swap
            (pl.col("variant") < 0.3).alias("variant"),
        )
    )
    lines = lines.join(chosen, on=["visit", "line_number"], how="left")
    inflate_by = pl.when(pl.col("variant")).then(2).otherwise(1)
    return lines.with_columns(
        units=pl.when(pl.col("injection") == "inflate")
        .then(pl.col("units") + inflate_by)
        .when(pl.col("injection") == "untimed_twice")
        .then(2)
        .otherwise(pl.col("units")),
        inflated_by=pl.when(pl.col("injection") == "inflate").then(inflate_by),
    )


def notes(lines: pl.DataFrame) -> pl.DataFrame:
    def clock(minutes: pl.Expr) -> pl.Expr:
        return pl.time(minutes // 60, minutes % 60)

    inj = pl.col("injection")
    swap = (inj == "times_invalid") & pl.col("variant")
    blank_times = inj == "times_missing"
    start = pl.when(swap).then(clock(pl.col("end_min"))).otherwise(clock(pl.col("start_min")))
    end = pl.when(swap).then(clock(pl.col("start_min"))).otherwise(clock(pl.col("end_min")))
    minutes = (
        pl.when(blank_times & pl.col("variant"))
        .then(None)
        .when((inj == "times_invalid") & ~pl.col("variant"))
        .then(pl.col("minutes") + 10)
        .otherwise(pl.col("minutes"))
    )
    # a late signature: 8 to 20 days after the service (the line number spreads them)
    late = pl.duration(days=8 + pl.col("line_number") * 7 % 13)
    signed = (
        pl.when(inj == "unsigned_note")
        .then(None)
        .when(inj == "late_note")
        .then((pl.col("service_date") + late).dt.combine(clock(pl.col("end_min"))))
        .otherwise(pl.col("service_date").dt.combine(clock(pl.col("end_min") + 120)))
    )
    return lines.filter(inj.fill_null("") != "no_note").select(
        pl.col("claim_id").str.replace("^C", "N").alias("note_id"),
        "patient_id",
        pl.col("provider_npi"),
        "service_date",
        "procedure_code",
        pl.when(blank_times).then(None).otherwise(start).alias("start_time"),
        pl.when(blank_times).then(None).otherwise(end).alias("end_time"),
        minutes.cast(pl.Int64).alias("minutes"),
        signed.alias("signed_at"),
        note_text().alias("note_text"),
        "discipline",
    )


def plans(
    rng: np.random.Generator, lines: pl.DataFrame, patients: pl.DataFrame, rates: Rates
) -> pl.DataFrame:
    """Consecutive certification windows per patient covering every visit, each signed within
    20 days of its first treatment; then the plan-of-care injections."""
    first = lines.group_by("patient_id").agg(
        first=pl.col("service_date").min(),
        last=pl.col("service_date").max(),
        was_eval=pl.col("is_eval").any(),
        discipline=pl.col("discipline").first(),
        provider_npi=pl.col("provider_npi").first(),
    )
    first = first.sort("patient_id").with_columns(
        back=pl.lit(pl.Series(rng.integers(0, 31, first.height)))
    )
    pts = first.join(patients, on="patient_id").with_columns(
        cert0=pl.when(pl.col("was_eval"))
        .then(pl.col("first"))
        .otherwise(pl.col("first") - pl.duration(days=pl.col("back")))
    )
    windows = (
        pts.with_columns(
            k=pl.int_ranges(
                0, (pl.col("last") - pl.col("cert0")).dt.total_days() // pl.col("plan_days") + 1
            )
        )
        .explode("k")
        .with_columns(
            cert_start=pl.col("cert0") + pl.duration(days=pl.col("k") * pl.col("plan_days")),
        )
        .with_columns(cert_end=pl.col("cert_start") + pl.duration(days=pl.col("plan_days") - 1))
    )
    visits = lines.select("patient_id", "service_date").unique()
    first_tx = (
        windows.select("patient_id", "k", "cert_start", "cert_end")
        .join(visits, on="patient_id")
        .filter(pl.col("service_date").is_between(pl.col("cert_start"), pl.col("cert_end")))
        .group_by("patient_id", "k")
        .agg(first_tx=pl.col("service_date").min(), last_tx=pl.col("service_date").max())
    )
    p = windows.join(first_tx, on=["patient_id", "k"], how="inner").sort("patient_id", "k")
    n = p.height
    draw = rng.random(n)
    p = p.with_columns(
        poc=pl.when(pl.lit(pl.Series(draw)) < rates.truncated_plan)
        .then(pl.lit("truncated"))
        .when(pl.lit(pl.Series(draw)) < rates.truncated_plan + rates.unsigned_plan)
        .then(pl.lit("unsigned"))
        .when(
            pl.lit(pl.Series(draw))
            < rates.truncated_plan + rates.unsigned_plan + rates.late_signature
        )
        .then(pl.lit("late"))
        .when(
            pl.lit(pl.Series(draw))
            < rates.truncated_plan + rates.unsigned_plan + rates.late_signature + rates.sent_late
        )
        .then(pl.lit("sent_late"))
        .otherwise(None),
        sign_delay=pl.lit(pl.Series(rng.integers(0, 21, n))),
        late_delay=pl.lit(pl.Series(rng.integers(31, 46, n))),
        blank_discipline=pl.lit(pl.Series(rng.random(n) < 0.1)),
    )
    p = order_path(rng, p)  # drawn after the injections, which it leaves as they were
    return p.with_columns(
        poc=pl.when(pl.col("no_plan")).then(pl.lit("no_plan")).otherwise(pl.col("poc")),
        plan_id=pl.format("POC-{}-{}", pl.col("patient_id").str.slice(1), pl.col("k")),
        true_end=pl.col("cert_end"),
        # truncated half-way between the first and last treatment, so later visits fall
        # outside every plan (a plan with a single treatment day cannot be cut)
        cert_end=pl.when((pl.col("poc") == "truncated") & (pl.col("last_tx") > pl.col("first_tx")))
        .then(
            pl.col("first_tx")
            + pl.duration(days=(pl.col("last_tx") - pl.col("first_tx")).dt.total_days() // 2)
        )
        .otherwise(pl.col("cert_end")),
        signed_date=pl.when(
            pl.col("poc").is_in(("unsigned", "sent_late")) | (pl.col("path") == "order")
        )
        .then(None)
        .when(pl.col("poc") == "late")
        .then(pl.col("first_tx") + pl.duration(days=pl.col("late_delay")))
        .otherwise(pl.col("first_tx") + pl.duration(days=pl.col("sign_delay"))),
        discipline=pl.when(pl.col("blank_discipline")).then(None).otherwise(pl.col("discipline")),
    )


def labels(lines: pl.DataFrame, plan_frame: pl.DataFrame) -> pl.DataFrame:
    """Every (line, rule) the audit must report, with excess units, severity and amount."""
    per_unit = pl.col("line_value") / pl.col("units")
    out: list[pl.DataFrame] = []

    def add(frame: pl.DataFrame, rule: str, sev: pl.Expr, excess: pl.Expr | None, tag: str) -> None:
        amount = pl.col("line_value") if excess is None else excess * per_unit
        out.append(
            frame.select(
                "claim_id",
                "line_number",
                pl.lit(rule).alias("rule_id"),
                sev.alias("severity"),
                _whole(excess).alias("excess_units"),
                amount.round(2).alias("amount_at_risk"),
                pl.lit(tag).alias("injection"),
            )
        )

    err, warn = pl.lit("error"), pl.lit("warning")
    inj, kind = pl.col("injection"), pl.col("kind")
    add(lines.filter(inj == "inflate"), "UNITS-8MIN", err, pl.col("inflated_by"), "inflate")
    add(lines.filter(inj == "untimed_twice"), "UNITS-UNTIMED", err, pl.lit(1), "untimed_twice")
    add(lines.filter(kind == MUE), "UNITS-MUE", err, pl.lit(1), "mue")
    add(lines.filter(kind == SESSION_SHORT), "UNITS-SESSION-MIN", err, pl.lit(1), "short_session")
    add(
        lines.filter((kind == OVERLAP) & (pl.col("line_number") == 2)),
        "OVERLAP-TIMED",
        err,
        pl.lit(1),
        "overlap",
    )
    add(
        lines.filter(kind.is_in((BOOK_FIRST, BOOK_SECOND))),
        "OVERLAP-PROVIDER",
        err,
        None,
        "double_booking",
    )
    add(
        lines.filter((kind == CAP) & (pl.col("slot_order") == 8)),
        "OVERLAP-DAY-CAP",
        warn,
        None,
        "long_day",
    )
    add(lines.filter(inj == "times_invalid"), "TIME-INVALID", err, None, "times_invalid")
    add(lines.filter(inj == "no_note"), "DOC-NO-NOTE", err, None, "no_note")
    unsigned = "DOC-NOTE-UNSIGNED"
    add(lines.filter(inj == "unsigned_note"), unsigned, err, None, "unsigned_note")
    add(lines.filter(inj == "late_note"), unsigned, warn, pl.lit(0), "late_note")
    add(lines.filter(kind == PSY_SHORT), "TIME-PSYCHOTHERAPY", err, None, "psy_short")
    add(lines.filter(kind == ADDON_ALONE), "ADDON-NO-PRIMARY", err, None, "addon_alone")
    missing = lines.filter(inj == "times_missing")
    as_error = (
        (pl.col("procedure_code") == "H2032")
        | pl.col("variant")
        | (pl.col("payer_type") == "medicaid")
    )
    add(missing.filter(as_error), "TIME-MISSING", err, None, "times_missing")
    # Medicare needs the minutes, not clock times (Pub. 100-02 ch. 15 §220.3): info there
    noted = pl.when(pl.col("payer_type") == "medicare").then(pl.lit("info")).otherwise(warn)
    add(missing.filter(~as_error), "TIME-MISSING", noted, pl.lit(0), "times_missing")

    # plan-of-care labels: the patient's lines under a plan (evaluations are exempt)
    under = lines.filter(
        ~pl.col("procedure_code").is_in(
            ("97161", "97162", "97163", "97165", "97166", "97167", "H0031")
        )
    )
    no_plan = plan_frame.filter(pl.col("poc") == "no_plan").select("patient_id").unique()
    add(under.join(no_plan, on="patient_id", how="semi"), "POC-MISSING", err, None, "no_plan")
    cover = under.join(
        plan_frame.filter(
            pl.col("poc").is_in(("truncated", "unsigned", "late", "sent_late"))
        ).select("patient_id", "poc", "cert_start", "cert_end", "true_end"),
        on="patient_id",
    )
    gap = cover.filter(
        (pl.col("poc") == "truncated")
        & (pl.col("service_date") > pl.col("cert_end"))
        & (pl.col("service_date") <= pl.col("true_end"))
    )
    add(gap, "POC-EXPIRED", err, None, "truncated_plan")
    inside = cover.filter(
        pl.col("service_date").is_between(pl.col("cert_start"), pl.col("cert_end"))
    )
    add(inside.filter(pl.col("poc") == "unsigned"), "POC-UNSIGNED", err, None, "unsigned_plan")
    add(inside.filter(pl.col("poc") == "late"), "POC-UNSIGNED", warn, None, "late_signature")
    add(inside.filter(pl.col("poc") == "sent_late"), "POC-UNSIGNED", err, None, "sent_late")
    return pl.concat(out).cast(LABEL_SCHEMA).sort("claim_id", "line_number", "rule_id")


def service_dates(n_days: int) -> pl.DataFrame:
    return pl.DataFrame({"day": np.arange(n_days), "service_date": workdays(n_days)}).cast(
        {"day": pl.Int64, "service_date": pl.Date}
    )
