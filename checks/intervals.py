"""Interval sweeps for the overlap rules, done by sorting: sort the intervals of a group by start,
carry the running maximum end forward, compare each start with it. Cost is one sort, O(n log n),
so it scales to millions of notes; an all-pairs (self) join per provider-day or patient-day
would grow with the square of the busiest day and is deliberately never used.

The scans run over the whole sorted frame rather than as `.over(group)` windows: a patient-day
holds a handful of notes, and hashing millions of tiny window groups costs several times more
than one pass. A group's rows are contiguous after the sort, so a
shift is masked at the group's first row, a forward fill restarts at a value every group
sets on its first row, and a running max stays inside its group by adding group_number x
_SPAN (every minute value is below _SPAN).

Times are compared in whole minutes of the day (hour * 60 + minute): notes record clock times to
the minute, and units are counted in minutes (CMS Pub. 100-04 ch. 5 §20.2). Seconds, if any, are
dropped. Intervals are half-open [start, end): a service ending at 09:30 and one starting at
09:30 do not overlap. A row whose end is not after its start (blank, zero length or crossing
midnight) has no usable interval and takes part in no sweep; the documentation rules report it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl

_SPAN = 2048  # > 1440 minutes in a day


def minute_of_day(column: str) -> pl.Expr:
    """Minutes since midnight of a Time column (seconds dropped)."""
    t = pl.col(column)
    return t.dt.hour().cast(pl.Int64) * 60 + t.dt.minute().cast(pl.Int64)


def hhmm(expr: pl.Expr) -> pl.Expr:
    """'HH:MM' text of a minute-of-day expression, for evidence strings."""
    return pl.format(
        "{}:{}",
        (expr // 60).cast(pl.String).str.zfill(2),
        (expr % 60).cast(pl.String).str.zfill(2),
    )


def timed_intervals(notes: pl.LazyFrame, codes: Iterable[str]) -> pl.LazyFrame:
    """Note rows of `codes` with a usable interval, with integer columns `s` and `e`."""
    return (
        notes.filter(
            pl.col("procedure_code").is_in(sorted(codes))
            & pl.col("start_time").is_not_null()
            & pl.col("end_time").is_not_null()
        )
        # only what the sweeps and their evidence read: a sort or a cache of these rows would
        # otherwise carry every note column along
        .select(
            "note_id",
            "patient_id",
            "provider_npi",
            "service_date",
            "procedure_code",
            "discipline",
            s=minute_of_day("start_time"),
            e=minute_of_day("end_time"),
        )
        .filter(pl.col("e") > pl.col("s"))
    )


def _group_starts(keys: Sequence[str]) -> pl.Expr:
    """True on the first row of each group, in a frame sorted by `keys`."""
    return pl.any_horizontal([pl.col(k).ne_missing(pl.col(k).shift(1)) for k in keys])


def _group_cum_max(value: pl.Expr, group_no: str) -> pl.Expr:
    """Running max of a minute value (0 <= value < _SPAN) within its group."""
    # Int64: a group number times _SPAN overflows the UInt32 a boolean cum_sum gives
    offset = pl.col(group_no).cast(pl.Int64) * _SPAN
    return (offset + value).cum_max() - offset


def _earlier_in_group(expr: pl.Expr, first: str) -> pl.Expr:
    """`expr` of the previous row of the same group, null on a group's first row."""
    return pl.when(~pl.col(first)).then(expr.shift(1))


def groups_with_overlap(rows: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """The groups `by` in which some row shares time with a row that starts no later: exactly
    the groups where overlap_with_earlier finds an overlap (M > s, whatever the order of rows
    that tie on start and end). It sorts the group keys and the two times only, so the sweep
    that names partners and builds evidence runs on these groups alone (a few percent)."""
    g = list(by)
    return (
        rows.select(*g, "s", "e")
        .sort([*g, "s", "e"])
        .with_columns(_first=_group_starts(g))
        .with_columns(_grp=pl.col("_first").cum_sum())
        .with_columns(_prev_end=_earlier_in_group(_group_cum_max(pl.col("e"), "_grp"), "_first"))
        .filter(pl.col("_prev_end") > pl.col("s"))
        .select(g)
        .unique()
    )


def overlap_with_earlier(rows: pl.LazyFrame, by: Sequence[str]) -> pl.LazyFrame:
    """Per group `by`, the minutes of each row already covered by rows that start earlier.

    Rows are ordered by (s, e, note_id, procedure_code). All earlier rows start at or before `s`
    and end at or before the running max end M of the earlier rows, so their union meets
    [s, e) in exactly [s, min(e, M)): overlap = max(0, min(e, M) - s). The later-starting
    service loses the shared minutes. Adds `overlap` and the earlier row that reaches M
    (`partner_note`, `partner_code`, `partner_s`, `partner_e`), which covers all of it.
    """
    g = list(by)
    # the latest row reaching the running max (every group's first row does)
    owner = pl.col("e") == pl.col("_run_max")
    partner = {
        f"partner_{name}": _earlier_in_group(
            pl.when(owner).then(pl.col(col)).forward_fill(), "_first"
        )
        for name, col in (("note", "note_id"), ("code", "procedure_code"), ("s", "s"))
    }
    return (
        rows.sort([*g, "s", "e", "note_id", "procedure_code"])
        .with_columns(_first=_group_starts(g))
        .with_columns(_grp=pl.col("_first").cum_sum())
        .with_columns(_run_max=_group_cum_max(pl.col("e"), "_grp"))
        .with_columns(partner_e=_earlier_in_group(pl.col("_run_max"), "_first"), **partner)
        .with_columns(
            overlap=pl.when(pl.col("partner_e").is_null())
            .then(0)
            .otherwise((pl.min_horizontal("e", "partner_e") - pl.col("s")).clip(lower_bound=0))
        )
        .drop("_first", "_grp", "_run_max")
    )


def _merge_blocks(rows: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """Adds `_block`, a globally unique number of the merged stretch of time each row belongs
    to within `keys`: a new block starts where the start is after the running max end, so
    overlapping and touching rows share a block."""
    k = list(keys)
    return (
        rows.sort([*k, "s", "e", "note_id"])
        .with_columns(_first=_group_starts(k))
        .with_columns(_grp=pl.col("_first").cum_sum())
        .with_columns(_prev_end=_earlier_in_group(_group_cum_max(pl.col("e"), "_grp"), "_first"))
        .with_columns(_block=(pl.col("_first") | (pl.col("s") > pl.col("_prev_end"))).cum_sum())
        .drop("_first", "_grp", "_prev_end")
    )


def _running_top_two(blocks: pl.LazyFrame) -> pl.LazyFrame:
    """Per group (`_first`, `_grp`), in start order: the largest block end so far `_m1` and its
    block `_own1`, and the largest end of every block so far but `_own1` (`_m2`, `_own2`;
    0 / -1 when there is none). The second is the max of the non-record blocks so far and of
    the max just before the last record was set."""
    first = pl.col("_first")
    prev_m1 = _earlier_in_group(pl.col("_m1"), "_first").fill_null(0)
    return (
        blocks.with_columns(_m1=_group_cum_max(pl.col("ce"), "_grp"))
        .with_columns(_prev_m1=prev_m1)
        .with_columns(_record=pl.col("ce") > pl.col("_prev_m1"))  # always on a first row
        .with_columns(
            _own1=pl.when("_record").then("_idx").forward_fill(),
            _nrm=_group_cum_max(pl.when("_record").then(0).otherwise("ce"), "_grp"),
            _pr=pl.when("_record").then("_prev_m1").forward_fill(),
        )
        .with_columns(
            _pr_own=pl.when("_record")
            .then(pl.when(first).then(-1).otherwise(pl.col("_own1").shift(1)))
            .forward_fill(),
            _nr_own=pl.when(
                ~pl.col("_record")
                & (pl.col("ce") > _earlier_in_group(pl.col("_nrm"), "_first").fill_null(0))
            )
            .then("_idx")
            .when(first)
            .then(-1)
            .forward_fill(),
        )
        .with_columns(
            _m2=pl.max_horizontal("_nrm", "_pr"),
            _own2=pl.when(pl.col("_nrm") >= pl.col("_pr")).then("_nr_own").otherwise("_pr_own"),
        )
    )


def overlap_with_other_party(
    rows: pl.LazyFrame, by: Sequence[str], party: str, min_overlap: int
) -> pl.LazyFrame:
    """Rows of a group `by` (e.g. provider and day) that overlap, by at least `min_overlap`
    minutes, the time of a DIFFERENT `party` (e.g. patient) of the same group.

    1. Each party's own rows are merged into blocks (_merge_blocks). Blocks of one party are
       disjoint and separated by a gap.
    2. A row r = [s, e) of block b overlaps a block c = [cs, ce) by >= m minutes iff
       cs <= e - m, ce >= s + m and ce - cs >= m (and e - s >= m). Blocks and rows shorter
       than m are dropped. Sort the blocks of the group by cs and, for each row, take the
       largest ce among blocks with cs <= e - m, leaving out its own block b: the running max,
       or the running max of all blocks but the record holder when b holds the record
       (_running_top_two). Own-party blocks cannot spoil it: those before b end before b
       starts (< s + m), those after b start after b ends (> e - m).
    3. The row is flagged iff that largest end is >= s + m. Its block is another party's
       block overlapping the row by >= m minutes; it is returned as the partner.

    Exact for "r overlaps another party's merged time by >= m minutes". With m = 1 (whole
    minutes) that equals "r overlaps some row of another party". With m > 1 the shared time
    may be split over several touching or overlapping rows of that other party, none of which
    alone reaches m: the therapist was still with that other party for m continuous minutes.

    Returns the flagged rows with `partner_notes`, `partner_s`, `partner_e`, `overlap`.
    """
    g = list(by)
    m = pl.lit(min_overlap, dtype=pl.Int64)
    merged = _merge_blocks(rows, [*g, party]).cache()
    blocks = (
        merged.group_by("_block")
        .agg(
            *[pl.col(c).first() for c in (*g, party)],
            cs=pl.col("s").min(),
            ce=pl.col("e").max(),
        )
        .filter(pl.col("ce") - pl.col("cs") >= m)
        # one party's blocks never tie on (cs, ce): the order is deterministic
        .sort([*g, "cs", "ce", party])
        .with_columns(_first=_group_starts(g), _idx=pl.int_range(pl.len(), dtype=pl.Int64))
        .with_columns(_grp=pl.col("_first").cum_sum())
        .cache()
    )
    sweep = _running_top_two(blocks).select(
        *g, pl.col("cs").alias("_key"), pl.lit(0, dtype=pl.Int8).alias("_kind"),
        "_m1", "_own1", "_m2", "_own2", pl.col("_idx").alias("_seq"),
    )  # fmt: skip
    # each row asks for the largest end among blocks with cs <= e - m (a block sorts before a
    # query on an equal key, so cs == e - m counts)
    queries = (
        merged.join(blocks.select("_block", pl.col("_idx").alias("_own")), on="_block")
        .filter(pl.col("e") - pl.col("s") >= m)
        .with_columns(_key=pl.col("e") - m, _kind=pl.lit(1, dtype=pl.Int8))
    )
    answers = ("_m1", "_own1", "_m2", "_own2")
    is_block = pl.col("_kind") == 0
    answered = (
        pl.concat([sweep, queries], how="diagonal_relaxed")
        # blocks with equal starts keep their sweep order: the last one holds the answer
        .sort([*g, "_key", "_kind", "_seq"])
        .with_columns(_first=_group_starts(g))
        .with_columns(_grp=pl.col("_first").cum_sum())
        .with_columns(
            # a fill from the previous group's blocks is no answer
            pl.col(*answers).forward_fill(),
            _from=pl.when(is_block).then("_grp").forward_fill(),
        )
        .filter(~is_block & (pl.col("_from") == pl.col("_grp")))
        .with_columns(
            _best=pl.when(pl.col("_own1") == pl.col("_own")).then("_m2").otherwise("_m1"),
            _partner=pl.when(pl.col("_own1") == pl.col("_own")).then("_own2").otherwise("_own1"),
        )
        .filter((pl.col("_partner") >= 0) & (pl.col("_best") >= pl.col("s") + m))
    )
    partners = blocks.select(
        pl.col("_idx").alias("_partner"),
        pl.col("_block").alias("_partner_block"),
        pl.col("cs").alias("partner_s"),
        pl.col("ce").alias("partner_e"),
    )
    flagged = answered.join(partners, on="_partner", how="inner").cache()
    # the partner blocks' note ids, gathered only for the blocks that are someone's partner
    partner_notes = (
        merged.select(pl.col("_block").alias("_partner_block"), "note_id")
        .join(flagged.select("_partner_block").unique(), on="_partner_block", how="semi")
        .group_by("_partner_block")
        .agg(partner_notes=pl.col("note_id").unique().sort().str.join(";"))
    )
    return (
        flagged.join(partner_notes, on="_partner_block", how="left")
        .with_columns(
            overlap=pl.min_horizontal("e", "partner_e") - pl.max_horizontal("s", "partner_s")
        )
        .drop("_block", "_own", "_key", "_kind", "_seq", "_first", "_grp", "_from", "_best")
        .drop("_partner", "_partner_block", *answers)
    )
