"""Claim lines matched to their notes, fast: the match key packed into one integer.

The match (checks/base.py) joins claim lines to the note rows of the same patient, date of service
and procedure code, after summarising the notes per key. Grouping and joining on those three
columns (a categorical, a date and a string) is slow at scale, so the key is packed into one
UInt64 — patient id, days since the earliest date and a code number, each in as many bits as the
data needs: the notes are sorted on it once, only keys with several notes are grouped, and each
line finds its key by binary search. The packed key stays on the lines as SERVICE_ID for the
rules that pool units per service. When the three parts do not fit in KEY_BITS (more than ~2^40
patient ids, dates a million years apart), `match_ids` says so and `matched_lines` joins on the
three columns and ranks them instead, which gives the same answer.

Nulls: a key with a null part packs to null, and a null never matches (as `nulls_equal=False` on
the three columns); validated claims and notes have no null key part anyway (schemas/contract.py).
"""

from __future__ import annotations

import polars as pl

from checks.base import (
    LINE_ID,
    MATCH_KEY,
    SERVICE_ID,
    CodeSets,
    code_class,
    line_discipline,
    note_aggregations,
    note_summary,
    one_note,
    several_notes,
)

# The packed key's width: one bit short of UInt64, so that every multiplier fits in one. A wider
# key falls back to matching on the three columns.
KEY_BITS = 63
_PATIENT, _DAY, _CODE = "_match_patient", "_match_day", "_match_code"
# The note columns a summary reads (base.note_aggregations, base.one_note).
_NOTE_COLUMNS = ("note_id", "provider_npi", "minutes", "start_time", "end_time")


def _bits(value: int | None) -> int:
    return 0 if value is None else int(value).bit_length()


def match_ids(
    claims: pl.DataFrame, notes: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """`claims` and `notes` with SERVICE_ID added, or None when the key does not fit KEY_BITS."""
    # Codes are numbered from one sorted list of both frames' codes: no global state involved.
    codes = (
        pl.concat(
            [
                claims.get_column("procedure_code").unique(),
                notes.get_column("procedure_code").unique(),
            ]
        )
        .unique()
        .drop_nulls()
        .sort()
    )
    number = pl.col("procedure_code").replace_strict(
        codes, pl.int_range(codes.len(), dtype=pl.UInt64, eager=True), default=None
    )
    # Patient ids as categoricals share one dictionary only while a column holds them (polars
    # frees an unused one), so both frames' ids are made categorical before either is numbered.
    patients = [frame.get_column("patient_id").cast(pl.Categorical()) for frame in (claims, notes)]
    # Lazy, not DataFrame.with_columns: an eager call first copies every column of a frame made
    # of several chunks into one (validated exports come in dozens); the lazy engine reads the
    # three columns as they are.
    claims_parts, notes_parts = pl.collect_all(
        frame.lazy().select(
            ids.to_physical().cast(pl.UInt64).alias(_PATIENT),
            pl.col("service_date").cast(pl.Int32).alias(_DAY),
            number.alias(_CODE),
        )
        for frame, ids in zip((claims, notes), patients, strict=True)
    )
    stats = pl.concat([claims_parts, notes_parts]).select(
        pl.col(_PATIENT).max().alias("patient"),
        pl.col(_DAY).min().alias("first"),
        pl.col(_DAY).max().alias("last"),
        pl.col(_CODE).max().alias("code"),
    )
    patient, first, last, code = stats.row(0)
    day_bits = 0 if first is None else _bits(last - first)
    code_bits = _bits(code)
    if _bits(patient) + day_bits + code_bits > KEY_BITS:
        return None
    packed = (
        pl.col(_PATIENT) * pl.lit(2 ** (day_bits + code_bits), dtype=pl.UInt64)
        + (pl.col(_DAY).cast(pl.Int64) - (first or 0)).cast(pl.UInt64)
        * pl.lit(2**code_bits, dtype=pl.UInt64)
        + pl.col(_CODE)
    ).alias(SERVICE_ID)
    return (
        claims.hstack([claims_parts.select(packed).to_series()]),
        notes.hstack([notes_parts.select(packed).to_series()]),
    )


def matched_lines(claims: pl.DataFrame, notes: pl.DataFrame) -> pl.DataFrame:
    """Every claim line with SERVICE_ID and the summary of its notes (the columns of
    base.note_summary, null when the line has no note), in the claims' order."""
    keyed = match_ids(claims, notes)
    if keyed is None:
        by_key = note_summary(notes.lazy())
        key_null = pl.any_horizontal(pl.col(c).is_null() for c in MATCH_KEY)
        return (
            claims.lazy()
            .with_columns(
                pl.when(~key_null)
                .then(pl.struct(MATCH_KEY).rank("dense"))
                .cast(pl.UInt64)
                .alias(SERVICE_ID)
            )
            .join(by_key, on=list(MATCH_KEY), how="left", maintain_order="left")
            .collect()
        )
    claims, notes = keyed
    # Only the key's order is sorted, not the notes, which would copy every note column. In that
    # order the notes of one key are one contiguous run, and a row unlike both neighbours is a
    # key's only note: its summary is its own columns. Only keys with several notes are grouped,
    # since at scale nearly every key has one note.
    ids = notes.get_column(SERVICE_ID)
    order: pl.Series | None  # None once the summary is in key order itself
    order = ids.arg_sort(nulls_last=True).head(ids.len() - ids.null_count())
    table = ids.gather(order)
    alone = table.ne_missing(table.shift(1)) & table.ne_missing(table.shift(-1))
    if alone.all():
        summary = notes.lazy().select(*one_note()).collect()
    else:
        sorted_notes = (
            notes.lazy().select(pl.col(SERVICE_ID, *_NOTE_COLUMNS).gather(order)).collect()
        )
        several = sorted_notes.filter(~alone)
        grouped = several.group_by(SERVICE_ID).agg(note_aggregations())
        summary = pl.concat(
            [
                sorted_notes.filter(alone).select(SERVICE_ID, *one_note()),
                several_notes(several.lazy(), grouped.lazy(), [SERVICE_ID]).collect(),
            ]
        ).sort(SERVICE_ID)
        table, order = summary.get_column(SERVICE_ID), None
        summary = summary.drop(SERVICE_ID)
    # The claims' own columns are shared with the caller's frame, not gathered into a copy.
    return claims.hstack(_lookup(summary, table, order, claims.get_column(SERVICE_ID)))


def _lookup(
    values: pl.DataFrame, table: pl.Series, order: pl.Series | None, keys: pl.Series
) -> list[pl.Series]:
    """The row of `values` for each of `keys`, null where a key has none: `table` holds the
    (unique) keys sorted, `order` the row of `values` of each (None: the same position). A
    binary search over the sorted keys and a gather, which is faster than a hash join here."""
    if table.is_empty():
        return values.clear(keys.len()).get_columns()
    at = table.search_sorted(keys, side="left")
    hit = table.gather(at.clip(upper_bound=table.len() - 1)).eq(keys).fill_null(False)
    rows = at.set(~hit, None)
    if order is not None:
        rows = order.gather(rows)
    return values.lazy().select(pl.all().gather(rows)).collect().get_columns()


def prepare_lines(
    claims: pl.LazyFrame, notes: pl.LazyFrame, codes: CodeSets, in_scope: pl.Expr | None = None
) -> pl.LazyFrame:
    """What the engine gives rules as `lines`: claim lines with LINE_ID, SERVICE_ID,
    discipline, code class, `in_scope` and the matched notes' summary (null when the line has
    no note). For rule tests and library use; the engine builds the same frame in steps."""
    lines = matched_lines(claims.collect(), notes.collect()).with_row_index(LINE_ID)
    return lines.lazy().with_columns(
        discipline=line_discipline(codes),
        code_class=code_class(codes),
        in_scope=pl.lit(True) if in_scope is None else in_scope,
    )
