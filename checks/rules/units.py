"""Unit rules: 8-minute rule, untimed codes, Medically Unlikely Edits, per-session minimums.
Every rule here looks only at in-scope lines that billed units (units > 0), pools the units of one
patient, date of service and code (the allowances per payer type too; checks/attribution.py),
charges the excess to the later line."""

from __future__ import annotations

import polars as pl

from checks.attribution import attributed_excess, key_billed_text, key_lines_text, units_text
from checks.base import LINE_KEY, MATCH_KEY, SERVICE_ID, AuditData, billed_lines, split_by_lines
from checks.declare import Param, rule
from checks.rules._timed import (
    cms_excess,
    discipline_key,
    discipline_text,
    finish,
    minutes_documented,
    note_noun,
    payer_key,
    pooled_billed_text,
    timed_units,
    widened,
)
from schemas.bounds import UNITS_MAX
from schemas.contract import PROCEDURE_CODE_PATTERN

units_col = pl.col("units")
code_col = pl.col("procedure_code")


@rule(
    "UNITS-8MIN",
    action="refund",
    needs=("notes",),
    applies_to=("timed",),
    title="Timed units exceed the documented minutes (8-minute rule)",
    severity="error",
    citation=(
        "CMS Medicare Claims Processing Manual, Pub. 100-04 (2024), Ch. 5 §20.2 (total-time "
        "method: all timed minutes of the patient's day and discipline, billed or not); AMA CPT "
        "(2025) time rule (midpoint, per code)"
    ),
    params=(
        Param(
            "method",
            "cms",
            "'cms' total-time (pooled per patient, day, discipline, payer type) or 'ama'",
            choices=("cms", "ama"),
        ),
        Param("unit_minutes", 15, "minutes in one timed unit", minimum=1, maximum=60),
        Param(
            "min_minutes", 8, "fewest minutes that support the first unit", minimum=1, maximum=60
        ),
        Param(
            "per_code",
            [],
            "timed codes whose minutes are counted on their own under 'cms', never pooled with "
            "other codes (a state's choice for per-15-minute H-codes)",
            pattern=PROCEDURE_CODE_PATTERN,
        ),
    ),
)
def units_8min(
    data: AuditData,
    *,
    method: str,
    unit_minutes: int,
    min_minutes: int,
    per_code: list[str] | tuple[str, ...] = (),
) -> pl.LazyFrame:
    """Timed 15-minute codes billed with more units than the notes' minutes support.

    AMA/CPT midpoint: each code on its own, units = floor((minutes + 7) / 15) from 8 minutes.
    CMS total-time: the timed minutes of one patient, day and discipline are added — every
    documented timed minute, billed or not (Pub. 100-04 ch. 5 §20.2, Example 5) — and support
    N = floor((T + 7) / 15) units in all; no code may carry more than floor(minutes / 15) + 1.
    Because the clinician may break ties either way, only units that no valid allocation
    supports are flagged: first each code's units above its cap, then the rest of the day's
    excess, charged to the codes billed furthest beyond their own minutes. Codes in `per_code`
    form a pool of their own. Lines of one code and day billed under two disciplines are two
    codes here, each with its own notes and pool; so are two payer types' (a dual-eligible's
    Medicare and Medicaid claims of one session, each held to the day's minutes).
    """
    if method not in ("cms", "ama"):
        raise ValueError(f"UNITS-8MIN: method must be 'cms' or 'ama', not {method!r}")
    disc = pl.col("discipline")
    widen = widened(per_code)  # the shared helpers pool and attribute per (widened) SERVICE_ID
    timed = minutes_documented(billed_lines(data).filter(pl.col("code_class") == "timed")).select(
        SERVICE_ID,
        *MATCH_KEY,
        *LINE_KEY,
        "payer_type",
        "units",
        "discipline",
        "note_minutes",
        "note_rows",
        "note_ids",
        "rows_discipline_unknown",
    )
    single, several = (
        part.with_columns(
            _dk=discipline_key(disc), _pk=payer_key(pl.col("payer_type"))
        ).with_columns(**widen)
        for part in split_by_lines(timed, data)
    )
    lines = pl.concat([single, several]).cache()
    m = pl.col("minutes")
    billed = pl.col("billed")
    # every line of a key carries the same note summary (checks/matching.py), so first() is it;
    # the key's columns ride along in the key: first() per group cost more than hashing them
    per_code_rows = pl.concat(
        [
            single.select(
                SERVICE_ID,
                *MATCH_KEY,
                "_pool",
                billed=units_col.cast(pl.Int64),
                minutes=pl.col("note_minutes"),
                _unknown=pl.col("rows_discipline_unknown"),
                _disc=disc,
            ),
            several.group_by(SERVICE_ID, *MATCH_KEY, "_pool").agg(
                billed=units_col.sum().cast(pl.Int64),
                minutes=pl.col("note_minutes").first(),
                _unknown=pl.col("rows_discipline_unknown").first(),
                _disc=disc.first(),
            ),
        ]
    )
    if method == "ama":
        return _ama(lines, per_code_rows, unit_minutes, min_minutes)
    # CMS: a code never carries more than its full units + 1 (Pub. 100-04 ch. 5 §20.2)
    rows = per_code_rows.with_columns(
        cap=pl.when(m > 0).then(m // unit_minutes + 1).otherwise(0).cast(pl.Int64)
    ).cache()
    rows = cms_excess(rows, data, per_code, unit_minutes, min_minutes)
    message = pl.format(
        "{} was billed for {} but the {} {} minutes, which support {} under the CMS total-time "
        "method ({} timed minutes that day{} support {} in all, and at most {} for this code).",
        code_col,
        pooled_billed_text(),
        note_noun(),
        m,
        units_text(billed - pl.col("code_excess")),
        pl.col("day_minutes"),
        pl.when(pl.col("unbilled") > 0)
        .then(pl.format(", {} of them documented but not billed,", pl.col("unbilled")))
        .otherwise(pl.lit("")),
        units_text(pl.col("day_units")),
        pl.col("cap"),
    )
    evidence = pl.format(
        "notes={}; minutes={}; billed={}; code cap={}; discipline={}; day total={} min → {} "
        "units (cms); documented not billed={} min; day billed={}; lines={}",
        pl.col("note_ids"),
        m,
        billed,
        pl.col("cap"),
        discipline_text(),
        pl.col("day_minutes"),
        pl.col("day_units"),
        pl.col("unbilled"),
        pl.col("day_billed"),
        key_lines_text(),
    )
    joined = lines.join(rows.drop(*MATCH_KEY, "_pool"), on=SERVICE_ID, how="inner").with_columns(
        line_excess=attributed_excess(pl.col("code_excess"))
    )
    return finish(joined, message, evidence)


def _ama(
    lines: pl.LazyFrame, rows: pl.LazyFrame, unit_minutes: int, min_minutes: int
) -> pl.LazyFrame:
    """AMA/CPT: leftover minutes of different codes never combine (AMA CPT time rule)."""
    m, billed = pl.col("minutes"), pl.col("billed")
    rows = rows.with_columns(supported=timed_units(m, unit_minutes, min_minutes)).with_columns(
        code_excess=(billed - pl.col("supported")).clip(lower_bound=0)
    )
    message = pl.format(
        "{} was billed for {} but the {} {} minutes, which support {} under the AMA/CPT "
        "midpoint rule (minutes of different codes are not combined).",
        code_col,
        pooled_billed_text(),
        note_noun(),
        m,
        units_text(pl.col("supported")),
    )
    evidence = pl.format(
        "notes={}; minutes={}; billed={} → {} units (ama); discipline={}; lines={}",
        pl.col("note_ids"),
        m,
        billed,
        pl.col("supported"),
        discipline_text(),
        key_lines_text(),
    )
    joined = lines.join(rows.drop(*MATCH_KEY, "_pool"), on=SERVICE_ID, how="inner").with_columns(
        line_excess=attributed_excess(pl.col("code_excess"))
    )
    return finish(joined, message, evidence)


# the allowances: an untimed code per discipline and provider too (Transmittal 1019; null for
# per-session codes), an MUE per provider (CMS NCCI); each payer type's claims their own
UNTIMED_KEY = (SERVICE_ID, "payer_type", "_discipline", "_provider")
MUE_KEY = (SERVICE_ID, "payer_type", "rendering_npi")


@rule(
    "UNITS-UNTIMED",
    action="refund",
    applies_to=("untimed", "per_session"),
    title="Untimed or per-session code billed more than once a day",
    severity="error",
    citation=(
        "CMS Medicare Claims Processing Manual, Pub. 100-04 (2024), Ch. 5 §20.2 (service-based "
        "codes); CMS Pub. 100-04 Transmittal 1019 (untimed codes once per provider, per "
        "discipline, per date of service, per patient)"
    ),
    params=(
        Param(
            "max_units_per_day",
            1,
            "units allowed per patient, day and code",
            minimum=1,
            maximum=UNITS_MAX,
        ),
    ),
)
def units_untimed(data: AuditData, *, max_units_per_day: int) -> pl.LazyFrame:
    """Untimed and per-session codes billed with more than one unit a day.

    An untimed code is billed once however long it took (Pub. 100-04 ch. 5 §20.2), once per
    provider, discipline, date and patient (Transmittal 1019): a PT and an OT each billing 97150
    the same day is clean. Lines without a discipline (GP/GO/GN, else the code's) share one apart
    from PT/OT/SLP lines. Per-session H-codes are 1 per patient, day and code whoever rendered
    them (state manuals). Units are pooled across the claim lines of one payer type: a
    dual-eligible's session billed to Medicare and to Medicaid is one unit on each claim."""
    untimed = pl.col("code_class") == "untimed"
    over_max = (pl.col("billed") - max_units_per_day).clip(0)
    lines = (
        billed_lines(data)
        .filter(pl.col("code_class").is_in(["untimed", "per_session"]))
        # a service within the allowance in all is within it for every discipline and provider
        .filter(units_col.sum().over(SERVICE_ID) > max_units_per_day)
        .with_columns(
            _discipline=pl.when(untimed).then(pl.col("discipline").fill_null("none")),
            _provider=pl.when(untimed).then(pl.col("rendering_npi")),
        )
        .with_columns(billed=units_col.sum().over(UNTIMED_KEY).cast(pl.Int64))
        .with_columns(line_excess=attributed_excess(over_max, key=UNTIMED_KEY))
    )
    message = pl.format(
        "{} was billed for {} on one date of service, but {} is billed at most {} per {}.",
        code_col,
        key_billed_text(key=UNTIMED_KEY),
        pl.when(untimed).then(pl.lit("an untimed code")).otherwise(pl.lit("a per-session code")),
        units_text(pl.lit(max_units_per_day)),
        pl.when(untimed)
        .then(pl.lit("patient, day, discipline and provider"))
        .otherwise(pl.lit("patient per day")),
    )
    evidence = pl.format(
        "day units={}; max per day={}; discipline={}; provider={}; lines={}; notes={}",
        pl.col("billed"),
        pl.lit(max_units_per_day),
        pl.col("_discipline").fill_null("any"),
        pl.col("_provider").fill_null("any"),
        key_lines_text(key=UNTIMED_KEY),
        pl.col("note_ids").fill_null("none"),
    )
    return finish(lines, message, evidence)


@rule(
    "UNITS-MUE",
    action="refund",
    title="Units above the Medically Unlikely Edit",
    severity="error",
    citation=(
        "CMS NCCI Medically Unlikely Edits, practitioner services, quarterly tables 2025 (units of"
        " a code by the same provider for the same beneficiary on the same date of service)"
    ),
)
def units_mue(data: AuditData) -> pl.LazyFrame:
    """Units of a code one provider billed for one patient and day above the MUE.

    An MUE counts the same provider's units for the same beneficiary and date (CMS NCCI): two
    clinicians' (rendering providers') lines are counted apart, and so are the claims of two
    payer types (Medicare's MUEs edit Medicare claims; every payer's lines are held to the one
    table shipped, data/reference/mue.csv). The MUE of the service year applies, else the latest
    earlier year's, else (before the table) the latest year's. Codes without one are not checked.
    """
    lines = billed_lines(data).cache()
    # units per service first: only services above their MUE (a few) are split by provider
    service = (SERVICE_ID, "procedure_code", "service_date")
    single, several = split_by_lines(lines.select(*service, "units"), data)
    keys = pl.concat(
        [
            single.select(*service, service_units=units_col.cast(pl.Int64)),
            several.group_by(service).agg(service_units=units_col.sum().cast(pl.Int64)),
        ]
    ).with_columns(service_year=pl.col("service_date").dt.year().cast(pl.Int64))
    table = data.mue.select(
        procedure_code=pl.col("code").cast(pl.String).str.strip_chars().str.to_uppercase(),
        mue_year=pl.col("year").cast(pl.Int64),
        mue=pl.col("mue").cast(pl.Int64),
    )
    year = pl.col("mue_year")
    applies = year <= pl.col("service_year")
    limits = (
        keys.select("procedure_code", "service_year")
        .unique()
        .join(table, on="procedure_code", how="inner")
        .group_by("procedure_code", "service_year")
        .agg(
            # latest year not after the service; else the latest year there is
            pl.col("mue", "mue_year").sort_by([applies, year], descending=[True, True]).first()
        )
    )
    over = keys.join(limits, on=["procedure_code", "service_year"], how="inner").filter(
        pl.col("service_units") > pl.col("mue")
    )
    lines = (
        lines.join(over.select(SERVICE_ID, "mue", "mue_year"), on=SERVICE_ID, how="inner")
        .with_columns(billed=units_col.sum().over(MUE_KEY).cast(pl.Int64))
        .with_columns(
            line_excess=attributed_excess((pl.col("billed") - pl.col("mue")).clip(0), key=MUE_KEY)
        )
    )
    message = pl.format(
        "{} was billed for {} by one provider for one patient on one date of service, above the "
        "Medically Unlikely Edit of {} per day.",
        code_col,
        key_billed_text(key=MUE_KEY),
        units_text(pl.col("mue")),
    )
    evidence = pl.format(
        "MUE={} ({} table); provider={}; day units={}; lines={}",
        pl.col("mue"),
        year,
        pl.col("rendering_npi"),
        pl.col("billed"),
        key_lines_text(key=MUE_KEY),
    )
    return finish(lines, message, evidence)


@rule(
    "UNITS-SESSION-MIN",
    action="refund",
    needs=("notes",),
    applies_to=("per_session",),
    title="Per-session code with a session shorter than the minimum",
    severity="error",
    citation=(
        "State Medicaid provider manuals (2025): H2032 activity therapy, sessions of at least 30 "
        "minutes"
    ),
    params=(
        Param(
            "min_session_minutes",
            30,
            "shortest documented session that qualifies",
            minimum=1,
            maximum=1440,
        ),
    ),
)
def units_session_min(data: AuditData, *, min_session_minutes: int) -> pl.LazyFrame:
    """Per-session codes whose documented session is shorter than the profile minimum.

    A session below the minimum does not qualify at all, so every unit of the line is excess
    (state manuals: H2032 sessions of 30-60 minutes, at least 30 to qualify). Notes without
    minutes are TIME-MISSING's finding.
    """
    lines = minutes_documented(
        billed_lines(data).filter(pl.col("code_class") == "per_session")
    ).with_columns(
        line_excess=pl.when(pl.col("note_minutes") < min_session_minutes)
        .then(units_col)
        .otherwise(0)
    )
    message = pl.format(
        "{} was billed as a session but the note documents {} minutes, short of the {}-minute "
        "minimum a session needs to qualify.",
        code_col,
        pl.col("note_minutes"),
        pl.lit(min_session_minutes),
    )
    evidence = pl.format(
        "notes={}; minutes={}; minimum={} min; billed={}",
        pl.col("note_ids"),
        pl.col("note_minutes"),
        pl.lit(min_session_minutes),
        units_col,
    )
    return finish(lines, message, evidence)
