"""Per-provider measures of the audited lines, from the lines the engine has already matched to
their notes: lines, claims, timed units billed and the minutes the notes document for them.

The report's provider scorecard (reports/metrics.py) is built from these: on the engine's matched
lines (one integer per service, the notes' minutes already summed per service) they cost a
fraction of grouping and joining the raw exports on (patient, date, code) text keys.
"""

from __future__ import annotations

import polars as pl

from checks.base import SERVICE_ID, modifier_discipline
from checks.engine import Matched
from checks.matching import match
from checks.period import Period, in_period
from checks.profile import Profile
from checks.rows import Engine
from schemas.text import as_text

NOTE_COLUMNS = {
    "note_id": pl.String(),
    "provider_npi": pl.String(),
    "start_time": pl.Time(),
    "end_time": pl.Time(),
    "discipline": pl.String(),
}
MEASURES_SCHEMA = pl.Schema(
    {
        "provider_npi": pl.String(),
        "lines": pl.Int64(),
        "claims": pl.Int64(),
        "timed_units": pl.Int64(),
        "documented_minutes": pl.Int64(),
    }
)


def timed_line(profiles: dict[str, Profile]) -> pl.Expr:
    """True for a line whose code is timed under the profile that audits it (`_profile`)."""
    expr = pl.lit(False)
    for name, profile in profiles.items():
        expr = (
            pl.when(pl.col("_profile") == name)
            .then(pl.col("procedure_code").is_in(sorted(profile.codes.timed)))
            .otherwise(expr)
        )
    return expr


def provider_measures(
    matched: Matched,
    profiles: dict[str, Profile],
    override: Profile | None = None,
    period: Period | None = None,
) -> pl.DataFrame:
    """One row per rendering provider (MEASURES_SCHEMA), as reports.metrics.exports_measures
    computes them from the exports: a service's documented minutes (the sum over its notes;
    none = 0) count once per provider billing it, however many of its lines do. With an audit
    `period`, of the lines audited only (the others are matched as context)."""
    active = {override.name: override} if override is not None else profiles
    lines = matched.lines.lazy().filter(in_period(period))
    timed = service_measures(lines, timed_line(active))
    return per_provider(lines, timed)


def lines_with_minutes(claims: pl.DataFrame, notes: pl.DataFrame) -> pl.LazyFrame:
    """The claim lines with SERVICE_ID and `note_minutes`, the minutes of the notes that
    document them (checks/matching.py; a line's discipline from its GP/GO/GN modifier): the
    exports' side of provider_measures, for a run that has not kept the engine's match."""
    # a report built from a few columns of the exports reads the others as blank
    claims = claims.with_columns(
        pl.lit(None, dtype=pl.String).alias(c)
        for c in ("modifiers", "rendering_npi")
        if c not in claims.columns
    )
    notes = notes.with_columns(
        pl.lit(None, dtype=dtype).alias(c)
        for c, dtype in NOTE_COLUMNS.items()
        if c not in notes.columns
    )
    disciplines = claims.lazy().select(modifier_discipline(pl.col("modifiers"))).collect()
    return match(claims, notes, disciplines.to_series()).lines.lazy()


def service_measures(lines: pl.LazyFrame, timed: pl.Expr) -> pl.LazyFrame:
    """Timed units and documented minutes per rendering provider of the `timed` lines: a
    service's documented minutes (the sum over its notes of the line's discipline; none = 0)
    count once per provider billing it, however many of its lines do."""
    return (
        lines.filter(timed)
        .group_by("rendering_npi", SERVICE_ID)
        .agg(
            pl.col("units").sum().alias("units"),
            pl.col("note_minutes").first().fill_null(0).alias("minutes"),
        )
        .group_by("rendering_npi")
        .agg(
            pl.col("units").sum().alias("timed_units"),
            pl.col("minutes").sum().alias("documented_minutes"),
        )
    )


def per_provider(lines: pl.LazyFrame, timed: pl.LazyFrame) -> pl.DataFrame:
    """MEASURES_SCHEMA from claim lines (`rendering_npi`, `claim_id`) and their timed units and
    documented minutes per provider (`rendering_npi`, `timed_units`, `documented_minutes`)."""
    return (
        lines.group_by("rendering_npi")
        .agg(pl.len().alias("lines"), pl.col("claim_id").n_unique().alias("claims"))
        .join(timed, on="rendering_npi", how="left")
        .select(
            pl.col("rendering_npi").alias("provider_npi"),
            "lines",
            "claims",
            pl.col("timed_units").fill_null(0),
            pl.col("documented_minutes").fill_null(0),
        )
        .collect()
        .cast(MEASURES_SCHEMA)
    )


# Cloned documentation: a scorecard measure, not a per-line finding, because identical short
# notes are common and not by themselves non-compliant. Validation keeps no note text, so the
# notes carry TEXT_HASH instead (note_text_hash, computed as the notes are read).
TEXT_HASH = "text_hash"
TEXT_HASH_SEED = 20_260_615
CLONED_SCHEMA = pl.Schema(
    {
        "provider_npi": pl.String(),
        "notes_with_text": pl.Int64(),
        "cloned_notes": pl.Int64(),
        "cloned_share": pl.Float64(),
    }
)


def note_text_hash(text: pl.Expr) -> pl.Expr:
    """TEXT_HASH (UInt64) of a note row's text in lower case, trimmed; null for a blank text.
    Two texts that differ only in case or surrounding spaces get the same hash. Copied-forward
    notes are copies character for character; folding punctuation and spacing as well took a
    regular expression over every byte of every note (11 of the 10-million-line run's 21 s of
    validation), so they count."""
    normal = text.str.to_lowercase().str.strip_chars()
    return (
        pl.when(normal.str.len_chars() > 0)
        .then(normal.hash(seed=TEXT_HASH_SEED))
        .cast(pl.UInt64)
        .alias(TEXT_HASH)
    )


# Notes hashed per slice: the lower-cased copy the hash reads exists for one slice at a time, not
# for every note at once (1.5 GB of text at ten million notes).
HASH_SLICE = 500_000


def note_text_hashes(text: pl.Series) -> pl.Series:
    """note_text_hash of every value of `text` (any dtype: hashed as its text), one slice of
    HASH_SLICE values after another."""
    as_string = as_text(pl.col(text.name), text.dtype)
    parts = [
        text.slice(start, HASH_SLICE).to_frame().select(note_text_hash(as_string))
        for start in range(0, max(text.len(), 1), HASH_SLICE)
    ]
    return pl.concat(parts).to_series()


# a note's fingerprint: its rows' hashes in any order (rows are interventions), as partial
# aggregates that add up over any split of the note's rows (merge_note_parts)
FINGERPRINT = ("_rows", "_min", "_max", "_xor")


def note_parts(notes: pl.LazyFrame) -> pl.LazyFrame:
    """Per note_id with text: its provider_npi (the least) and FINGERPRINT over its rows. Rows
    of one note read apart (in two partitions) give parts that merge_note_parts adds up."""
    hashed = pl.col(TEXT_HASH)
    return (
        notes.filter(hashed.is_not_null())
        .group_by("note_id")
        .agg(
            pl.col("provider_npi").min(),
            _rows=pl.len(),
            _min=hashed.min(),
            _max=hashed.max(),
            _xor=hashed.bitwise_xor(),
        )
    )


def merge_note_parts(parts: pl.LazyFrame) -> pl.LazyFrame:
    """note_parts' rows of one note_id, from several reads, as one row: what note_parts gives
    over all of the note's rows at once."""
    return parts.group_by("note_id").agg(
        pl.col("provider_npi").min(),
        pl.col("_rows").sum(),
        pl.col("_min").min(),
        pl.col("_max").max(),
        pl.col("_xor").bitwise_xor(),
    )


def cloned_counts(notes: pl.LazyFrame) -> pl.LazyFrame:
    """Per provider_npi: notes_with_text and cloned_notes, from whole notes' FINGERPRINT rows
    (note_parts); a note is cloned when another note has its fingerprint. Counts over notes
    split by fingerprint (every note of one fingerprint in one piece) add up."""
    return (
        notes.with_columns(cloned=pl.len().over(FINGERPRINT) > 1)
        .group_by("provider_npi")
        .agg(notes_with_text=pl.len(), cloned_notes=pl.col("cloned").sum())
    )


def cloned_shares(counts: pl.LazyFrame) -> pl.LazyFrame:
    """CLONED_SCHEMA from cloned_counts' rows (a provider's in several rows: added up)."""
    return (
        counts.group_by("provider_npi")
        .agg(pl.col("notes_with_text", "cloned_notes").sum())
        .with_columns(cloned_share=pl.col("cloned_notes") / pl.col("notes_with_text"))
        .sort("provider_npi")
        .select(CLONED_SCHEMA.names())
        .cast(CLONED_SCHEMA)
    )


def cloned_documentation(notes: pl.LazyFrame, engine: Engine = "auto") -> pl.DataFrame:
    """Per note provider (CLONED_SCHEMA): the notes (note_id) with text, those whose text
    repeats another note's word for word (after normalisation: every row of the note alike),
    and their share. Empty when the notes carry no TEXT_HASH values. `engine`: streaming over
    a scan of the notes (checks/rows.py)."""
    if TEXT_HASH not in notes.collect_schema().names():
        return pl.DataFrame(schema=CLONED_SCHEMA)
    return cloned_shares(cloned_counts(note_parts(notes))).collect(engine=engine)


def with_cloned_documentation(
    measures: pl.DataFrame,
    notes: pl.LazyFrame,
    engine: Engine = "auto",
    cloned: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`measures` (one row per provider_npi) with CLONED_SCHEMA's columns of each provider's
    notes: 0 notes with text (share null) for a provider without any, or when the notes carry
    no TEXT_HASH (no note text given, or left out by --redact). `cloned`: those columns already
    reduced (a partitioned run's, flows/scale/cloned.py); else from `notes`."""
    cloned = cloned_documentation(notes, engine) if cloned is None else cloned
    return measures.join(cloned, on="provider_npi", how="left").with_columns(
        pl.col("notes_with_text", "cloned_notes").fill_null(0)
    )
