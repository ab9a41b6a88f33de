"""Whose service a claim line or a note row is: PT, OT, SLP or BH (CMS Pub. 100-04 Ch. 5 §20.1-20.2:
timed minutes count per discipline), for checks/matching.py.

A line's discipline is its GP/GO/GN modifier, else its code's in the profile (base.line_discipline).
A note's is its `discipline` column, else that of the line of the same service rendered by the
note's provider, else the one discipline billed for the code that day, else the one discipline
the note's provider billed the patient that day; else it stays unknown. Work is per distinct value
or on sorted integer keys, never per row in Python.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from checks.base import CodeSets, modifier_discipline
from schemas.distinct import code_values, map_distinct

# 0 stands for an unknown discipline; schemas/contract.py DISCIPLINES are the others.
DISCIPLINE_NUMBER = {"PT": 1, "OT": 2, "SLP": 3, "BH": 4}


def numbers(disciplines: pl.Series) -> pl.Series:
    """Discipline names as DISCIPLINE_NUMBER, 0 for null or unknown (numbers pass as they are)."""
    if disciplines.dtype == pl.UInt8:
        return disciplines.fill_null(0)
    return disciplines.replace_strict(
        DISCIPLINE_NUMBER, default=0, return_dtype=pl.UInt8
    ).fill_null(0)


def _single(frame: pl.LazyFrame, by: list[str], name: str) -> pl.LazyFrame:
    """Per `by`, the one known discipline of the lines in `frame` (null when none or several)."""
    d = pl.col("ld")
    return (
        frame.filter(d > 0)
        .group_by(by)
        .agg(_lo=d.min(), _hi=d.max())
        .select(*by, pl.when(pl.col("_lo") == pl.col("_hi")).then(pl.col("_lo")).alias(name))
    )


def _line_stats(lines: pl.DataFrame, keys: pl.Series) -> pl.DataFrame:
    """For each of `keys` (a service), what its lines (`lines`: s, ld, billed) hold: `lo` the
    lowest known discipline, `hi` the highest discipline (0 included), `unknown` whether a line's
    is unknown and `billed` whether one bills units; nulls for a service without lines."""
    # service, discipline and billed packed into one integer (s < 2^58 by KEY_BITS, ld < 8) and
    # sorted as values: one service's lines are then a run in discipline order, grouped by the
    # sorted fast path, far cheaper than an arg_sort and gathers of three columns
    packed = (
        lines.lazy()
        .select(
            (pl.col("s") * 16 + pl.col("ld").cast(pl.UInt64) * 2 + pl.col("billed").cast(pl.UInt64))
            .drop_nulls()
            .sort()
            .alias("_v")
        )
        .select(
            (pl.col("_v") // 16).set_sorted().alias("s"),
            ((pl.col("_v") // 2) % 8).cast(pl.UInt8).alias("ld"),
            (pl.col("_v") % 2 == 1).alias("billed"),
        )
    )
    d = pl.col("ld")
    values = (
        packed.group_by("s", maintain_order=True)
        .agg(
            lo=d.filter(d > 0).first(),
            hi=d.last(),
            unknown=d.first() == 0,
            billed=pl.col("billed").any(),
        )
        .collect()
    )
    return pl.DataFrame(lookup(values.drop("s"), values.get_column("s"), None, keys))


def resolve(lines: pl.DataFrame, notes: pl.DataFrame) -> pl.DataFrame:
    """Per note of `notes` (s, pd, npi, ed): `nd`, its discipline (0: unknown), and `split` and
    `billed` of its service (`lines`: s, pd, npi, ld, billed)."""
    d = pl.col("ld")
    lo, hi = pl.col("lo"), pl.col("hi")
    stats = _line_stats(lines, notes.get_column("s"))
    # explicit, else the one known discipline billed for the code that day (which is also what
    # the line of the note's provider says, when that line's discipline is known)
    resolved = (
        notes.hstack(stats)
        .lazy()
        .with_columns(
            nd=pl.when(pl.col("ed") > 0).then(pl.col("ed")).when(lo == hi).then(lo),
            uniform_lines=(lo.is_null() | ((lo == hi) & ~pl.col("unknown"))).fill_null(True),
        )
        .collect()
    )
    nd = resolved.get_column("nd")
    rows = nd.is_null().arg_true()
    todo = resolved.select(pl.all().gather(rows)).with_columns(_row=rows)
    if todo.height:
        known = lines.lazy().filter(d > 0)
        # the line of the same service rendered by the note's provider (a service billed by
        # several disciplines), else the one discipline the note's provider billed the patient
        # that day (a documented code nobody billed)
        by_provider = _single(
            known.join(todo.lazy().select("s").unique(), on="s", how="semi"), ["s", "npi"], "_p"
        )
        by_day = _single(
            known.join(todo.lazy().select("pd").unique(), on="pd", how="semi"), ["pd", "npi"], "_d"
        )
        found = (
            todo.lazy()
            .join(by_provider, on=["s", "npi"], how="left")
            .join(by_day, on=["pd", "npi"], how="left")
            .select("_row", pl.coalesce("_p", "_d").alias("nd"))
            .collect()
        )
        nd = nd.scatter(found.get_column("_row"), found.get_column("nd"))
    nd = nd.fill_null(0).cast(pl.UInt8)
    # a service is split when its lines' disciplines differ or a note's differs from them
    flagged = resolved.select(
        (
            ~pl.col("uniform_lines")
            | (lo.is_not_null() & (pl.lit(nd) > 0) & (pl.lit(nd) != lo)).fill_null(False)
        )
        & pl.col("s").is_not_null()
    ).to_series()
    split = flagged
    if flagged.any():
        split = notes.get_column("s").is_in(notes.get_column("s").filter(flagged).implode())
        split = split.fill_null(False)
    return pl.DataFrame(
        {"nd": nd, "split": split, "billed": resolved.get_column("billed").fill_null(False)}
    )


def lookup(
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


def line_disciplines(
    claims: pl.DataFrame, codes: dict[str, CodeSets], profile_of_line: pl.Expr
) -> pl.Series:
    """Each claim line's discipline (base.line_discipline) under the profile that audits it, as
    DISCIPLINE_NUMBER (`profile_of_line`: its name; a line no profile audits takes the first
    profile's)."""
    # three regular expressions or a text lookup per line are slow on millions: each runs once
    # per distinct modifier set or code
    modifiers, code = claims.get_column("modifiers"), claims.get_column("procedure_code")
    by_modifier = _per_distinct(modifiers, lambda m: _number(modifier_discipline(m)))
    by_code: dict[tuple[tuple[str, str], ...], tuple[pl.Expr, list[str]]] = {}
    for name, sets in codes.items():
        table = tuple(sorted(sets.discipline.items()))
        if table not in by_code:

            def of_code(c: pl.Expr, sets: CodeSets = sets) -> pl.Expr:
                named = c.replace_strict(sets.discipline, default=None, return_dtype=pl.String)
                return _number(named)

            by_code[table] = (_per_distinct(code, of_code), [])
        by_code[table][1].append(name)
    expr = pl.lit(None, dtype=pl.UInt8)
    options = list(by_code.values())
    if options:
        expr = options[0][0]
    for lookup_expr, names in options[1:]:
        expr = pl.when(profile_of_line.is_in(names)).then(lookup_expr).otherwise(expr)
    out = claims.lazy().select(pl.coalesce(by_modifier, expr).fill_null(0).alias("discipline"))
    return out.collect().to_series()


def _number(names: pl.Expr) -> pl.Expr:
    """Discipline names as DISCIPLINE_NUMBER, null for null or unknown."""
    return names.replace_strict(DISCIPLINE_NUMBER, default=None, return_dtype=pl.UInt8)


def _per_distinct(series: pl.Series, fn: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
    """`fn` of `series` as an expression, computed once per distinct value when it repeats."""
    distinct = code_values(series)
    if distinct is None:
        return fn(pl.lit(series))
    return pl.lit(map_distinct(series, fn, distinct))
