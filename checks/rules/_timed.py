"""Helpers of the unit rules (checks/rules/units.py): the lines with documented minutes, the
findings' columns, and UNITS-8MIN's CMS total-time pools and the share of a pool's excess each
code carries (CMS Pub. 100-04 Ch. 5 §20.2)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from checks.attribution import units_text
from checks.base import NOTE_BILLED, SERVICE_ID, AuditData
from schemas.contract import PAYER_TYPES

# the CMS pool key: one patient, date, discipline and payer type (Pub. 100-04 Ch. 5 §20.2)
POOL_KEY = ("patient_id", "service_date", "_pool")
# a line without a discipline pools with the other discipline-less lines of its day, never with
# PT/OT/SLP lines; "" cannot be a discipline (schemas/contract.py DISCIPLINES)
NO_DISCIPLINE = ""

code_col = pl.col("procedure_code")


def timed_units(minutes: pl.Expr, unit_minutes: int, min_minutes: int) -> pl.Expr:
    """Units that `minutes` support: 0 below `min_minutes`, then one more unit every
    `unit_minutes` (8-22 → 1, 23-37 → 2 …; Pub. 100-04 ch. 5 §20.2: floor((T + 7) / 15))."""
    return (
        pl.when(minutes < min_minutes)
        .then(pl.lit(0, dtype=pl.Int64))
        .otherwise((minutes + unit_minutes - min_minutes) // unit_minutes)
        .cast(pl.Int64)
    )


def pool_of(key: pl.Expr, per_code: Sequence[str]) -> pl.Expr:
    """The pool of a row as an integer: its discipline's number (`key`, discipline_key), plus a
    number for its code when the code is in `per_code` (counted on its own)."""
    pool = key.cast(pl.Int64)
    if not per_code:
        return pool
    rank = {code: i + 1 for i, code in enumerate(sorted(per_code))}
    by_code = code_col.replace_strict(rank, default=0, return_dtype=pl.Int64)
    return pool + len(_DISCIPLINE_KEY) * by_code


# a line's discipline as a number, so one code of one discipline is one integer key
_DISCIPLINE_KEY = {NO_DISCIPLINE: 0, "PT": 1, "OT": 2, "SLP": 3, "BH": 4}
# each payer type's claims pool apart (a dual-eligible's Medicare and Medicaid claims of one
# session each against the day's minutes): a number per payer type within each pool and service
PAYER_SPAN = len(PAYER_TYPES)


def payer_key(payer: pl.Expr) -> pl.Expr:
    numbers = {p: i for i, p in enumerate(PAYER_TYPES)}
    return payer.replace_strict(numbers, default=0, return_dtype=pl.UInt64)


def widened(per_code: Sequence[str]) -> dict[str, pl.Expr]:
    """SERVICE_ID and the pool number widened by the line's payer type (`_pk`) and discipline
    (`_dk`): one code of one discipline and payer type is one integer key (the packed SERVICE_ID
    leaves room for both, checks/matching.py KEY_BITS)."""
    return {
        SERVICE_ID: (pl.col(SERVICE_ID) * PAYER_SPAN + pl.col("_pk")) * 8 + pl.col("_dk"),
        "_pool": pool_of(pl.col("_dk"), per_code) * PAYER_SPAN + pl.col("_pk").cast(pl.Int64),
    }


def discipline_key(discipline: pl.Expr) -> pl.Expr:
    return (
        discipline.fill_null(NO_DISCIPLINE)
        .replace_strict(_DISCIPLINE_KEY, default=0, return_dtype=pl.UInt64)
        .cast(pl.UInt64)
    )


def discipline_text() -> pl.Expr:
    """'PT', 'none', or either with the count of pooled note rows whose discipline is unknown."""
    name = pl.col("_disc").fill_null(pl.lit("none"))
    return (
        pl.when(pl.col("_unknown") > 0)
        .then(
            pl.format(
                "{} ({} note {} of unknown discipline pooled with this line)",
                name,
                pl.col("_unknown"),
                pl.when(pl.col("_unknown") == 1).then(pl.lit("row")).otherwise(pl.lit("rows")),
            )
        )
        .otherwise(name)
    )


def unbilled_minutes(data: AuditData, per_code: Sequence[str]) -> pl.LazyFrame:
    """Per pool without the payer type (a note has none), the minutes of timed note rows that no
    line billing units documents: they count in the day's total (Pub. 100-04 ch. 5 §20.2,
    Example 5). A row whose discipline stays unknown pools with the lines it matches only, so an
    unbilled one is left out."""
    code = pl.col("procedure_code")
    disc = pl.col("discipline")
    return (
        data.notes.filter(
            ~pl.col(NOTE_BILLED)
            & code.is_in(list(data.codes.timed))
            & disc.is_not_null()
            & pl.col("minutes").is_not_null()
        )
        .with_columns(_pool=pool_of(discipline_key(disc), per_code))
        .group_by(POOL_KEY)
        .agg(unbilled=pl.col("minutes").sum().cast(pl.Int64))
    )


def note_noun() -> pl.Expr:
    """'note documents' or 'notes document' (minutes summed over several note rows)."""
    return (
        pl.when(pl.col("note_rows") > 1)
        .then(pl.lit("notes document"))
        .otherwise(pl.lit("note documents"))
    )


def cms_excess(
    rows: pl.LazyFrame,
    data: AuditData,
    per_code: Sequence[str],
    unit_minutes: int,
    min_minutes: int,
) -> pl.LazyFrame:
    """`rows` (one per code, discipline and payer type: billed, minutes, cap, POOL_KEY) of the
    pools billed beyond their day's units or a code's cap, with `code_excess`, `day_minutes`,
    `unbilled`, `day_units` and `day_billed`."""
    pool = list(POOL_KEY)
    m, billed = pl.col("minutes"), pl.col("billed")
    cap_excess = pl.col("cap_excess")
    room = pl.col("room")
    # pool totals by one group_by; only pools billed over their day's units or over a code's
    # cap (a few percent) go through the remainder allocation below
    pools = (
        rows.group_by(pool)
        .agg(
            billed_minutes=m.sum(),
            day_billed=billed.sum(),
            _over_cap=(billed > pl.col("cap")).any(),
        )
        # a note has no payer: its unbilled minutes count in every payer type's pool of its day
        .with_columns(_base=pl.col("_pool") // PAYER_SPAN)
        .join(
            unbilled_minutes(data, per_code).rename({"_pool": "_base"}),
            on=["patient_id", "service_date", "_base"],
            how="left",
        )
        .drop("_base")
        .with_columns(
            unbilled=pl.col("unbilled").fill_null(0),
            day_minutes=pl.col("billed_minutes") + pl.col("unbilled").fill_null(0),
        )
        .with_columns(day_units=timed_units(pl.col("day_minutes"), unit_minutes, min_minutes))
        .filter(pl.col("_over_cap") | (pl.col("day_billed") > pl.col("day_units")))
        .drop("_over_cap")
    )
    rows = (
        rows.join(pools, on=pool, how="inner")
        .with_columns(
            cap_excess=(billed - pl.col("cap")).clip(lower_bound=0),
            # how far the code was billed beyond its own minutes: the remainder of the day's
            # excess goes to the largest deficit first (the code with the least leftover
            # minutes would have been the last to receive a leftover unit)
            deficit=unit_minutes * billed - m,
        )
        .with_columns(
            day_excess=(pl.col("day_billed") - pl.col("day_units")).clip(lower_bound=0),
            room=billed - cap_excess,
        )
        .with_columns(
            remainder=(pl.col("day_excess") - cap_excess.sum().over(pool)).clip(lower_bound=0),
            # room of the codes ahead in deficit DESC, code ASC order (negated for one
            # ascending sort)
            before=room.cum_sum().over(pool, order_by=[-pl.col("deficit"), code_col]) - room,
        )
        # any tie-break is the clinician's to make (Pub. 100-04 ch. 5 §20.2), so the day total
        # only bounds the sum: a code's share of the remainder never exceeds its room
        .with_columns(
            code_excess=cap_excess
            + pl.min_horizontal(room, (pl.col("remainder") - pl.col("before")).clip(0)),
        )
    )
    return rows


def minutes_documented(lf: pl.LazyFrame) -> pl.LazyFrame:
    """Lines whose every matched note row records minutes; a row without minutes is
    TIME-MISSING's finding and a line without a note DOC-NO-NOTE's, so they are skipped here
    rather than flagged twice."""
    return lf.filter(pl.col("note_minutes").is_not_null() & (pl.col("rows_minutes_missing") == 0))


def pooled_billed_text() -> pl.Expr:
    """'3 units' or '3 units across 2 claim lines' (the same code billed on several lines)."""
    n_lines = pl.len().over(SERVICE_ID)
    return (
        pl.when(n_lines > 1)
        .then(pl.format("{} across {} claim lines", units_text(pl.col("billed")), n_lines))
        .otherwise(units_text(pl.col("billed")))
    )


def finish(lf: pl.LazyFrame, message: pl.Expr, evidence: pl.Expr) -> pl.LazyFrame:
    """Contract columns for lines with a positive `line_excess`. The texts' windows (all lines
    of the key) must see the clean lines of a flagged key too, so they are computed on every
    line of the flagged keys: texts for a few percent of the lines, not all of them."""
    lf = lf.cache()  # read twice below (why: the caching note in checks/base.py)
    flagged_keys = lf.filter(pl.col("line_excess") > 0).select(SERVICE_ID).unique()
    return (
        lf.join(flagged_keys, on=SERVICE_ID, how="semi", nulls_equal=True)
        .with_columns(message=message, evidence=evidence)
        .filter(pl.col("line_excess") > 0)
        .select(
            "claim_id",
            "line_number",
            supported_units=(pl.col("units") - pl.col("line_excess")).cast(pl.Int64),
            excess_units=pl.col("line_excess").cast(pl.Int64),
            message="message",
            evidence="evidence",
        )
    )
