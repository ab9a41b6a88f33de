"""Claim lines matched to their notes, fast: the match key packed into one integer.

The match (checks/base.py) joins claim lines to the note rows of the same patient, date of service
and procedure code whose discipline agrees with the line's. Grouping and joining on those columns
(a categorical, a date and a string) is slow at scale, so the service is packed into one UInt64 —
patient id, days since the earliest date and a code number, each in as many bits as the data needs
— and the discipline into three more bits: the notes are sorted on that key once, only keys with
several notes are grouped, and each line finds its key by binary search. The packed service stays
on the lines as SERVICE_ID for the rules that pool units per service. When the parts do not fit in
KEY_BITS (more than ~2^35 patient ids, dates a million years apart), `match_ids` says so and the
services are numbered by ranking the three columns instead, which gives the same answer.

Disciplines: nearly every service is billed and documented by one discipline; its lines then match
all its notes (key discipline 0). A service whose lines have several disciplines, or whose note
names a discipline other than its lines', is split: each line discipline gets the notes of that
discipline or of none (a line of unknown discipline gets them all), a handful of rows joined apart.

Nulls: a key with a null part packs to null, and a null never matches (as `nulls_equal=False` on
the three columns); validated claims and notes have no null key part anyway (schemas/contract.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from checks.base import (
    LINE_ID,
    NOTE_BILLED,
    SERVICE_ID,
    CodeSets,
    code_class,
    line_discipline,
    note_aggregations,
    one_note,
    several_notes,
)
from checks.disciplines import DISCIPLINE_NUMBER, lookup, numbers, resolve

# The packed service's width: six bits short of UInt64, so that the discipline's three bits and
# the unit rules' payer type's two fit after it (checks/rules/_timed.py widened) and every
# multiplier fits in one. A wider key falls back to ranking the columns.
KEY_BITS = 58
DISCIPLINE_BITS = 3
_PATIENT, _DAY, _CODE = "_match_patient", "_match_day", "_match_code"
_KEY = "_match_key"
# DISCIPLINE_NUMBER's names by number (0: unknown)
_NAMES = pl.Series(
    [None, *sorted(DISCIPLINE_NUMBER, key=DISCIPLINE_NUMBER.__getitem__)], dtype=pl.String
)
# The note columns a summary reads (base.note_aggregations, base.one_note).
_NOTE_COLUMNS = ("note_id", "provider_npi", "minutes", "start_time", "end_time", "discipline")


@dataclass(frozen=True)
class MatchedFrames:
    """`lines`: the claims with SERVICE_ID and their notes' summary, in the claims' order.
    `notes`: the notes with SERVICE_ID, their resolved `discipline` and NOTE_BILLED."""

    lines: pl.DataFrame
    notes: pl.DataFrame


def _bits(value: int | None) -> int:
    return 0 if value is None else int(value).bit_length()


def _packed(claims: pl.DataFrame, notes: pl.DataFrame) -> tuple[list[pl.Series], int] | None:
    """[claims' SERVICE_ID, notes' SERVICE_ID] and the code's bit count (SERVICE_ID >> it is
    the patient-day), or None when the key does not fit KEY_BITS."""
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
    return [parts.select(packed).to_series() for parts in (claims_parts, notes_parts)], code_bits


def match_ids(
    claims: pl.DataFrame, notes: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame] | None:
    """`claims` and `notes` with SERVICE_ID added, or None when the key does not fit KEY_BITS."""
    packed = _packed(claims, notes)
    if packed is None:
        return None
    (claims_ids, notes_ids), _ = packed
    return claims.hstack([claims_ids]), notes.hstack([notes_ids])


def _ranked(claims: pl.DataFrame, notes: pl.DataFrame, parts: list[str]) -> list[pl.Series]:
    """Both frames' `parts` numbered alike by rank (null when a part is): the fallback key."""
    key = pl.concat([f.select(pl.col(parts).cast(pl.String)) for f in (claims, notes)])
    null = pl.any_horizontal(pl.col(c).is_null() for c in parts)
    ids = key.select(
        pl.when(~null).then(pl.struct(parts).rank("dense")).cast(pl.UInt64)
    ).to_series()
    return [ids.head(claims.height), ids.tail(notes.height)]


def _ids(claims: pl.DataFrame, notes: pl.DataFrame) -> tuple[list[pl.Series], list[pl.Series]]:
    """[claims', notes'] SERVICE_ID and [claims', notes'] patient-day numbers."""
    packed = _packed(claims, notes)
    if packed is None:
        services = _ranked(claims, notes, ["patient_id", "service_date", "procedure_code"])
        days = _ranked(claims, notes, ["patient_id", "service_date"])
        # null with the service, as a packed key is
        return services, [d.set(s.is_null(), None) for s, d in zip(services, days, strict=True)]
    services, code_bits = packed
    return services, [s // 2**code_bits for s in services]


def match(
    claims: pl.DataFrame, notes: pl.DataFrame, discipline: pl.Series | None = None
) -> MatchedFrames:
    """Claim lines with SERVICE_ID and the summary of their notes (base.note_aggregations: null
    when a line has no note), and the notes with their discipline. `discipline`: each claim
    line's discipline (base.line_discipline, by name or DISCIPLINE_NUMBER), None for none
    known."""
    (c_sid, n_sid), (c_pd, n_pd) = _ids(claims, notes)
    zeros = pl.repeat(0, claims.height, dtype=pl.UInt8, eager=True)
    ld = zeros if discipline is None else numbers(discipline)
    explicit = (
        numbers(notes.get_column("discipline"))
        if "discipline" in notes.columns
        else pl.repeat(0, notes.height, dtype=pl.UInt8, eager=True)
    )
    line_keys = pl.DataFrame(
        {"s": c_sid, "pd": c_pd, "npi": claims.get_column("rendering_npi"), "ld": ld,
         "billed": claims.get_column("units") > 0}
    )  # fmt: skip
    note_keys = pl.DataFrame(
        {"s": n_sid, "pd": n_pd, "npi": notes.get_column("provider_npi"), "ed": explicit}
    )
    resolved = resolve(line_keys, note_keys)
    nd, split, billed = (resolved.get_column(c) for c in ("nd", "split", "billed"))
    names = _NAMES.gather(nd).alias("discipline")
    keyed_notes = notes.drop("discipline", strict=False).hstack([names])
    shift = pl.lit(2**DISCIPLINE_BITS, dtype=pl.UInt64)
    note_key = pl.select(pl.when(~pl.lit(split)).then(pl.lit(n_sid) * shift)).to_series()
    summary_notes = keyed_notes.select(_NOTE_COLUMNS).hstack([note_key.alias(_KEY)])
    line_extra = zeros
    if split.any():
        # services split by discipline: each note row joined to the line disciplines it documents
        split_ids = n_sid.filter(split).unique()
        groups = (
            line_keys.lazy()
            .filter(pl.col("s").is_in(pl.lit(split_ids).implode()))
            .group_by("s", "ld")
            .agg(pl.col("billed").any().alias("_billed"))
        )
        pairs = (
            pl.DataFrame({"s": n_sid, "nd": nd, "split": split})
            .with_row_index("_row")
            .lazy()
            .filter(pl.col("split"))
            .join(groups, on="s", how="inner")
            .filter((pl.col("ld") == 0) | (pl.col("nd") == 0) | (pl.col("nd") == pl.col("ld")))
            .collect()
        )
        documented = pairs.group_by("_row").agg(pl.col("_billed").any())
        billed = billed.set(split, False).scatter(
            documented.get_column("_row"), documented.get_column("_billed")
        )
        rows = pairs.get_column("_row")
        extra = keyed_notes.lazy().select(pl.col(_NOTE_COLUMNS).gather(rows)).collect()
        keys = pairs.select((pl.col("s") * shift + pl.col("ld").cast(pl.UInt64)).alias(_KEY))
        summary_notes = pl.concat([summary_notes, extra.hstack(keys)], rechunk=False)
        line_extra = pl.select(
            pl.when(pl.lit(c_sid).is_in(pl.lit(split_ids).implode()))
            .then(pl.lit(ld))
            .otherwise(0)
            .cast(pl.UInt8)
        ).to_series()
    line_key = pl.select(pl.lit(c_sid) * shift + pl.lit(line_extra).cast(pl.UInt64)).to_series()
    lines = claims.hstack([c_sid.alias(SERVICE_ID), *_summaries(summary_notes, line_key)])
    out_notes = keyed_notes.hstack([n_sid.alias(SERVICE_ID), billed.alias(NOTE_BILLED)])
    return MatchedFrames(lines, out_notes)


def _summaries(notes: pl.DataFrame, keys: pl.Series) -> list[pl.Series]:
    """The summary columns of the notes (with _KEY) of each of `keys`, null where none."""
    # Only the key's order is sorted, not the notes, which would copy every note column. In that
    # order the notes of one key are one contiguous run, and a row unlike both neighbours is a
    # key's only note: its summary is its own columns. Only keys with several notes are grouped,
    # since at scale nearly every key has one note.
    ids = notes.get_column(_KEY)
    order: pl.Series | None  # None once the summary is in key order itself
    order = ids.arg_sort(nulls_last=True).head(ids.len() - ids.null_count())
    table = ids.gather(order)
    alone = table.ne_missing(table.shift(1)) & table.ne_missing(table.shift(-1))
    if alone.all():
        summary = notes.lazy().select(*one_note()).collect()
    else:
        sorted_notes = notes.lazy().select(pl.col(_KEY, *_NOTE_COLUMNS).gather(order)).collect()
        several = sorted_notes.filter(~alone)
        grouped = several.group_by(_KEY).agg(note_aggregations())
        summary = pl.concat(
            [
                sorted_notes.filter(alone).select(_KEY, *one_note()),
                several_notes(several.lazy(), grouped.lazy(), [_KEY]).collect(),
            ]
        ).sort(_KEY)
        table, order = summary.get_column(_KEY), None
        summary = summary.drop(_KEY)
    return lookup(summary, table, order, keys)


def prepare(
    claims: pl.LazyFrame, notes: pl.LazyFrame, codes: CodeSets, in_scope: pl.Expr | None = None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """What the engine gives rules as `lines` and `notes`: claim lines with LINE_ID,
    SERVICE_ID, discipline, code class, `in_scope` and the matched notes' summary (null when the
    line has no note); notes with SERVICE_ID, resolved discipline and NOTE_BILLED. For rule
    tests and library use; the engine builds the same frames in steps."""
    claims_df = claims.collect()
    discipline = claims_df.select(line_discipline(codes)).to_series()
    matched = match(claims_df, notes.collect(), discipline)
    lines = (
        matched.lines.with_row_index(LINE_ID)
        .lazy()
        .with_columns(
            discipline=line_discipline(codes),
            code_class=code_class(codes),
            in_scope=pl.lit(True) if in_scope is None else in_scope,
        )
    )
    return lines, matched.notes.lazy()


def line_notes(lines: pl.DataFrame, notes: pl.DataFrame) -> pl.DataFrame:
    """The note rows each claim line was matched to, for showing them (an evidence packet): one
    row per (line, note row), `line_id` naming the line. `lines`: matched lines (the `note_ids`
    summary of `match`, with LINE_ID); `notes`: the notes given to `match`. A note id names a
    note, which may span rows: its rows of the line's patient, date and code are the match."""
    key = ["patient_id", "service_date", "procedure_code"]
    wanted = (
        lines.lazy()
        .select(LINE_ID, *key, pl.col("note_ids").str.split(";").alias("note_id"))
        .explode("note_id")
        .filter(pl.col("note_id").is_not_null())
    )
    patient = pl.col("patient_id").cast(pl.String)
    return (
        wanted.with_columns(patient)
        .join(notes.lazy().with_columns(patient), on=[*key, "note_id"], how="inner")
        .sort(LINE_ID, "note_id", "start_time", nulls_last=True)
        .collect()
    )
