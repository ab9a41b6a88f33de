"""Which optional inputs a run has, for the rules' `needs` (checks/declare.py), and the optional
columns every rule may read whether the export had them or not.

A need is met when its input is there with something in it: the providers export given with at
least one row, the notes or plans export given (a claims-only audit gives neither: `absent`), a
column present with at least one value, a reference table given. A column of an export that was
not given is unmet for that reason ("no notes export given"). A column the
export lacks and a column that is blank on every row are the same thing to a rule: both leave it
"not applicable" with the same reason, and `with_optional` gives a rule that reads the column
anyway (as a fallback) a typed blank column instead of an error.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

import polars as pl

from checks.base import OPTIONAL_COLUMNS, PROVIDERS_SCHEMA
from checks.declare import PROVIDERS
from checks.reference import Reference

# plural nouns for the reasons ("the notes have no note_type values")
_NOUN = {"claims": "claim lines", "notes": "notes", "plans": "plans"}


def with_optional(frame: pl.LazyFrame, export: str) -> pl.LazyFrame:
    """`frame` with every optional column of `export` it lacks, blank and typed (lazy: a rule
    that never reads the column never builds it)."""
    names = set(frame.collect_schema().names())
    missing = {c: t for c, t in OPTIONAL_COLUMNS[export].items() if c not in names}
    if not missing:
        return frame
    return frame.with_columns(pl.lit(None, dtype=t).alias(c) for c, t in missing.items())


def providers_frame(providers: pl.LazyFrame | pl.DataFrame | None) -> pl.LazyFrame | None:
    """The providers export as rules read it: PROVIDERS_SCHEMA's columns (a missing one blank),
    role and discipline upper-cased so "pta" and "PTA" are one role; None stays None."""
    if providers is None:
        return None
    lf = providers.lazy()
    names = set(lf.collect_schema().names())
    return lf.select(
        (pl.col(c) if c in names else pl.lit(None)).cast(t).alias(c)
        for c, t in PROVIDERS_SCHEMA.items()
    ).with_columns(pl.col("role", "discipline").str.strip_chars().str.to_uppercase())


def _has_values(frame: pl.LazyFrame | pl.DataFrame, column: str) -> bool:
    lf = frame.lazy()
    if column not in lf.collect_schema().names():
        return False
    return bool(lf.select(pl.col(column).is_not_null().any()).collect().item())


def unmet_needs(
    tokens: Iterable[str],
    *,
    frames: Mapping[str, pl.LazyFrame | pl.DataFrame],
    providers: pl.LazyFrame | pl.DataFrame | None,
    reference: Reference,
    absent: Collection[str] | Mapping[str, str] = (),
) -> dict[str, str]:
    """token -> why it is not met, for the `tokens` that are not (frames: claims, notes, plans
    by export name; the claims may be the engine's lines, which carry every claim column;
    `absent`: the exports not given, notes or plans, whose frames are then empty stand-ins, or
    export -> why it is unavailable: the runners also name a given export none of whose rows
    was accepted, since judging every line against no evidence at all would flag them all)."""
    unmet: dict[str, str] = {}
    given = reference.given()
    for token in sorted(set(tokens)):
        export = token.partition(".")[0]
        if export in absent:
            unmet[token] = (
                absent[export] if isinstance(absent, Mapping) else f"no {export} export given"
            )
            continue
        if token in ("notes", "plans"):
            continue
        if token == PROVIDERS:
            if providers is None:
                unmet[token] = "no providers export given"
            elif providers.lazy().select(pl.len()).collect().item() == 0:
                unmet[token] = "the providers export has no rows"
            continue
        export, _, column = token.partition(".")
        if export == "reference":
            if token not in given:
                unmet[token] = f"no {column.replace('_', ' ')} reference table given"
            continue
        if not _has_values(frames[export], column):
            unmet[token] = f"the {_NOUN[export]} have no {column} values"
    return unmet


def reason_for(needs: Iterable[str], unmet: Mapping[str, str]) -> str | None:
    """Why a rule with `needs` cannot run (its first unmet need, in declared order), or None."""
    return next((unmet[t] for t in needs if t in unmet), None)
