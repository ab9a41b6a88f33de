"""What every rule receives: the validated exports, the profile's code sets and the reference
tables, plus the claim lines already matched to their notes (done once, shared by all rules).

Matching: a claim line matches the note rows of the same patient, date of service and
procedure code whose discipline agrees with the line's (a PT line is documented by PT notes;
timed minutes pool per discipline, CMS Pub. 100-04 Ch. 5 §20.2). A note's discipline is its
`discipline` column, else that of the line of the same service rendered by the note's provider,
else the single discipline billed for that code that day, else the single discipline the note's
provider billed the patient that day; a note or line whose discipline stays unknown matches
whatever the service has (checks/matching.py). The rendering provider is NOT part of the match: a
note written by another clinician still documents the service (so DOC-NO-NOTE does not fire),
but the line's evidence names the note's provider so a reviewer sees the mismatch. Provider-level
rules (OVERLAP-PROVIDER, OVERLAP-DAY-CAP) use the note's provider for note intervals and the
claim's rendering provider for billed minutes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from checks.declare import RULE_OUTPUT_SCHEMA, SEVERITY_COLUMN
from checks.reference import Reference

# A LazyFrame that a rule reads in two branches of its plan (a filter and a join back, say) is
# marked with `.cache()`: polars 2.1 does not always find such common subplans itself and would
# compute them once per branch.

# Line keys shared by every frame a rule returns.
LINE_KEY = ("claim_id", "line_number")
MATCH_KEY = ("patient_id", "service_date", "procedure_code")
# Lines also carry an integer id, unique per line (its row number), because grouping on an integer
# is many times faster than on LINE_KEY's text claim id. Rules still report LINE_KEY.
LINE_ID = "line_id"
# ... and an integer per service, equal exactly when MATCH_KEY is (checks/matching.py), cheaper to
# group on than MATCH_KEY's three columns. Null when a part of the key is null, which the contract
# never lets through (the three columns are required).
SERVICE_ID = "service_id"
# Notes as the rules see them carry SERVICE_ID, their resolved `discipline` (null: unknown) and
# whether a line billing units documents them (checks/matching.py).
NOTE_BILLED = "note_billed"
# A note's free text: read once for its hash as the notes are validated, never by a rule.
NOTE_TEXT = "note_text"
# Medicare's therapy modifiers name the plan of care's discipline (Pub. 100-04 ch. 5 §20.1).
DISCIPLINE_MODIFIERS = {"GP": "PT", "GO": "OT", "GN": "SLP"}
# Optional columns of the exports that rules read: an export without one is read as if the
# column were there and blank (checks/needs.py adds it), so a rule never tests for a column.
OPTIONAL_COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "claims": {"allowed_amount": pl.Float64(), "paid_amount": pl.Float64()},
    "notes": {
        "note_type": pl.String(),
        "signed_at": pl.Datetime("us"),
        "minutes": pl.Int64(),
        "text_hash": pl.UInt64(),
    },
    "plans": {},
}
# The providers export (optional) as the rules read it.
PROVIDERS_SCHEMA = pl.Schema(
    {
        "npi": pl.String(),
        "name": pl.String(),
        "role": pl.String(),
        "discipline": pl.String(),
        "supervising_npi": pl.String(),
    }
)


@dataclass(frozen=True)
class CodeSets:
    """Which procedure codes a profile treats as what (timed, untimed, per session, one-on-one,
    evaluation) and which discipline a code belongs to."""

    timed: frozenset[str] = frozenset()
    untimed: frozenset[str] = frozenset()
    per_session: frozenset[str] = frozenset()
    one_on_one: frozenset[str] = frozenset()
    evaluation: frozenset[str] = frozenset()
    # code -> discipline used when a line has no GP/GO/GN modifier
    discipline: dict[str, str] = field(default_factory=dict)

    @property
    def therapy(self) -> frozenset[str]:
        """Codes that are furnished under a plan of care / treatment plan."""
        return (self.timed | self.untimed | self.per_session) - self.evaluation


class Shared:
    """Frames that several rules derive alike from the same inputs (the plan-of-care rules' days
    and plans, say), built once per engine run and code sets, then read by each of them. A frame
    may depend on the lines, notes, plans and code sets, never on `in_scope` (the engine shares
    one Shared across scopes) or a rule's parameters. The lock keeps rules running side by side
    from building one twice."""

    def __init__(self) -> None:
        self._frames: dict[str, pl.DataFrame] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def frame(self, name: str, build: Callable[[], pl.LazyFrame]) -> pl.LazyFrame:
        with self._guard:
            lock = self._locks.setdefault(name, threading.Lock())
        with lock:
            if name not in self._frames:
                self._frames[name] = build().collect()
        return self._frames[name].lazy()

    def clear(self) -> None:
        """Forget every frame (the engine calls it once no later rule reads them)."""
        with self._guard:
            self._frames.clear()


@dataclass(frozen=True)
class AuditData:
    """Inputs of one rule call. `lines` holds every claim line (with LINE_ID, SERVICE_ID and its
    notes' summary: checks/matching.py); only rows with `in_scope` true belong to the profile
    being audited, and a rule emits findings only for those. Rules that
    look across patients (provider_scope) still see every line and note."""

    lines: pl.LazyFrame
    notes: pl.LazyFrame
    plans: pl.LazyFrame
    mue: pl.LazyFrame
    codes: CodeSets
    # the providers export (PROVIDERS_SCHEMA), None when not given; a rule reading it declares
    # needs=("providers",) and then always gets a frame with rows
    providers: pl.LazyFrame | None = None
    # versioned reference tables besides the MUE (checks/reference.py)
    reference: Reference = field(default_factory=Reference)
    # frames several rules derive alike (Shared); the engine passes one per code sets
    shared: Shared = field(default_factory=Shared, compare=False, repr=False)


def billed_lines(data: AuditData) -> pl.LazyFrame:
    """The lines a rule may flag: in the profile being audited and billing at least one unit
    (a zero-unit line claims no money). Pooling of units happens among these only: a line of
    another payer is audited under its own profile."""
    return data.lines.filter(pl.col("in_scope") & (pl.col("units") > 0))


def several_lines(data: AuditData) -> pl.LazyFrame:
    """The SERVICE_IDs billed on more than one claim line (of any scope), one row each. Nearly
    every service has one line: a rule that sums per service takes the others' values as they
    are and groups only these (grouping millions of one-row groups was most of its time)."""

    def build() -> pl.LazyFrame:
        ids = data.lines.select(pl.col(SERVICE_ID).drop_nulls().sort())
        return ids.filter(pl.col(SERVICE_ID) == pl.col(SERVICE_ID).shift(1)).unique()

    return data.shared.frame("several_lines", build)


def split_by_lines(lines: pl.LazyFrame, data: AuditData) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """(`lines` of services billed on one line, `lines` of the others: several_lines, or a null
    SERVICE_ID, which groups with the other nulls)."""
    flagged = several_lines(data).with_columns(_several=pl.lit(True))
    lines = lines.join(flagged, on=SERVICE_ID, how="left").cache()
    several = pl.col("_several").fill_null(False) | pl.col(SERVICE_ID).is_null()
    return lines.filter(~several).drop("_several"), lines.filter(several).drop("_several")


def documents_line(note_discipline: pl.Expr) -> pl.Expr:
    """True where a note row of the line's service documents the line (its `discipline`): the
    disciplines agree or either is unknown, as checks/matching.py matches them."""
    line = pl.col("discipline")
    return (line.is_null() | note_discipline.is_null() | (line == note_discipline)).fill_null(True)


def modifier_discipline(modifiers: pl.Expr) -> pl.Expr:
    """The discipline a GP/GO/GN modifier in `modifiers` names, else null."""
    mods = modifiers.fill_null("")
    by_modifier = pl.lit(None, dtype=pl.String)
    for modifier, discipline in reversed(DISCIPLINE_MODIFIERS.items()):
        by_modifier = (
            pl.when(mods.str.contains(rf"(?:^|:){modifier}(?::|$)"))
            .then(pl.lit(discipline))
            .otherwise(by_modifier)
        )
    return by_modifier


def line_discipline(codes: CodeSets, by_modifier: pl.Expr | None = None) -> pl.Expr:
    """Discipline of a claim line: from GP/GO/GN, else from the code's default, else null
    (null matches a plan of any discipline). `by_modifier`: modifier_discipline of the lines'
    modifiers, when the caller has it already."""
    if by_modifier is None:
        by_modifier = modifier_discipline(pl.col("modifiers"))
    by_code = pl.col("procedure_code").replace_strict(
        codes.discipline, default=None, return_dtype=pl.String
    )
    return pl.coalesce(by_modifier, by_code)


def code_class(codes: CodeSets) -> pl.Expr:
    """'timed', 'untimed', 'per_session' or null for codes the profile does not classify."""
    code = pl.col("procedure_code")
    return (
        pl.when(code.is_in(list(codes.timed)))
        .then(pl.lit("timed"))
        .when(code.is_in(list(codes.per_session)))
        .then(pl.lit("per_session"))
        .when(code.is_in(list(codes.untimed)))
        .then(pl.lit("untimed"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


# note-row counts of a service fit 32 bits; four such columns on every line, half the memory
COUNT = pl.UInt32


def note_aggregations() -> list[pl.Expr]:
    """What the notes of one (patient, date, code) document, as aggregations per key."""
    start_missing = pl.col("start_time").is_null()
    end_missing = pl.col("end_time").is_null()
    return [
        pl.len().cast(COUNT).alias("note_rows"),
        # sum is null only when no row documents minutes
        pl.when(pl.col("minutes").is_not_null().any())
        .then(pl.col("minutes").sum())
        .otherwise(None)
        .cast(pl.Int64)
        .alias("note_minutes"),
        pl.col("minutes").is_null().sum().cast(COUNT).alias("rows_minutes_missing"),
        (start_missing | end_missing).sum().cast(COUNT).alias("rows_times_missing"),
        pl.col("start_time").min().alias("note_start"),
        pl.col("end_time").max().alias("note_end"),
        pl.col("discipline").is_null().sum().cast(COUNT).alias("rows_discipline_unknown"),
        pl.col("note_id").min().alias("_id"),
        pl.col("note_id").max().alias("_id_max"),
        pl.col("provider_npi").min().alias("_npi"),
        pl.col("provider_npi").max().alias("_npi_max"),
    ]


def one_note() -> list[pl.Expr]:
    """What note_aggregations and several_notes give a key with a single note row, as plain
    columns of that row (no grouping: nearly every service has one note)."""
    start_missing = pl.col("start_time").is_null()
    end_missing = pl.col("end_time").is_null()
    return [
        pl.lit(1, dtype=COUNT).alias("note_rows"),
        pl.col("minutes").cast(pl.Int64).alias("note_minutes"),
        pl.col("minutes").is_null().cast(COUNT).alias("rows_minutes_missing"),
        (start_missing | end_missing).cast(COUNT).alias("rows_times_missing"),
        pl.col("start_time").alias("note_start"),
        pl.col("end_time").alias("note_end"),
        pl.col("discipline").is_null().cast(COUNT).alias("rows_discipline_unknown"),
        pl.col("note_id").alias("note_ids"),
        pl.col("provider_npi").alias("note_providers"),
    ]


def several_notes(notes: pl.LazyFrame, summary: pl.LazyFrame, key: list[str]) -> pl.LazyFrame:
    """`summary` (note_aggregations per `key`) with note_ids and note_providers.

    Nearly every service has one note: the ';'-joined ids and providers are built only for the
    keys with several (string aggregation over every key was most of this step's time)."""
    summary = summary.cache()  # read twice (the caching note at the top)
    several = (pl.col("_id") != pl.col("_id_max")) | (pl.col("_npi") != pl.col("_npi_max"))
    joined = (
        notes.join(summary.filter(several).select(key), on=key, how="semi")
        .group_by(key)
        .agg(
            _ids=pl.col("note_id").unique().sort().str.join(";"),
            _npis=pl.col("provider_npi").unique().sort().str.join(";"),
        )
    )
    return (
        summary.join(joined, on=key, how="left", nulls_equal=True, maintain_order="left")
        .with_columns(
            note_ids=pl.coalesce("_ids", "_id"), note_providers=pl.coalesce("_npis", "_npi")
        )
        .drop("_id", "_id_max", "_npi", "_npi_max", "_ids", "_npis")
    )


def note_summary(notes: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (patient, date, code): what the notes document for that service
    (checks/matching.py does the same on a packed key, faster)."""
    summary = notes.group_by(MATCH_KEY).agg(note_aggregations())
    return several_notes(notes, summary, list(MATCH_KEY))


def empty_findings() -> pl.LazyFrame:
    return pl.LazyFrame(schema=RULE_OUTPUT_SCHEMA)


NULL_INT = pl.lit(None, dtype=pl.Int64)


def rule_output(
    lf: pl.LazyFrame,
    *,
    supported: pl.Expr,
    excess: pl.Expr,
    message: pl.Expr,
    evidence: pl.Expr,
    severity: pl.Expr | None = None,
) -> pl.LazyFrame:
    columns = {
        "supported_units": supported.cast(pl.Int64),
        "excess_units": excess.cast(pl.Int64),
        "message": message,
        "evidence": evidence,
    }
    if severity is not None:
        columns[SEVERITY_COLUMN] = severity.cast(pl.String)
    out = lf.select(*LINE_KEY, **columns)
    return out.cast(RULE_OUTPUT_SCHEMA)


def clock(time: pl.Expr) -> pl.Expr:
    """09:15, or 09:15:30 when the time has seconds."""
    return (
        pl.when(time.dt.second() == 0)
        .then(time.dt.to_string("%H:%M"))
        .otherwise(time.dt.to_string("%H:%M:%S"))
    )
