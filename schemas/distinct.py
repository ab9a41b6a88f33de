"""Row-by-row results computed once per distinct value, and a cheaper exact duplicate test.

Code columns repeat: millions of claim lines carry a few payer types, a few dozen procedure
codes and modifier sets and some thousands of NPIs, so an element-wise expression evaluated on
the distinct values and looked up per row is the same column for a fraction of the work.

Every function here returns exactly what the direct computation returns; the tests hold them to
that (tests/schemas/test_distinct.py).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

# Code-likeness is judged on a sample, so an identifier column (claim_id: one value per claim) is
# never hashed whole only to find it is not a code column.
SAMPLE_ROWS = 100_000
# A sample with more distinct values than this share of its rows is not treated as codes: NPIs
# stay well below it (about 11% of a generated sample), patient ids far above (about 87%).
MAX_DISTINCT_SHARE = 0.25
# Tiny frames (tests, small practices) are cheap either way; they take the distinct path too.
MIN_DISTINCT_ALLOWED = 64

ElementWise = Callable[[pl.Expr], pl.Expr]


def code_values(series: pl.Series) -> pl.Series | None:
    """The distinct values of `series` (null included) if it looks like a code column, else
    None: then the caller computes row by row."""
    # Spread over the whole column: exports come sorted (by provider, by patient), and the first
    # rows of a patient_id column hold a handful of patients out of 390,000.
    sample = series.gather_every(max(1, series.len() // SAMPLE_ROWS))
    allowed = max(MIN_DISTINCT_ALLOWED, int(sample.len() * MAX_DISTINCT_SHARE))
    if sample.n_unique() > allowed:
        return None
    return series.unique()


def _apply(values: pl.Series, fn: ElementWise) -> pl.Series:
    return values.to_frame("v").select(fn(pl.col("v"))).to_series()


def _maps_null_to_null(fn: ElementWise, dtype: pl.DataType) -> bool:
    return _apply(pl.Series("v", [None], dtype=dtype), fn).is_null().all()


def replace_changed(series: pl.Series, fn: ElementWise, distinct: pl.Series) -> pl.Series:
    """`fn(series)` for a text-to-text `fn` (`distinct` from code_values). When `fn` leaves
    every value as it is (clean data: the usual case), `series` itself comes back, no copy."""
    out = _apply(distinct, fn)
    changed = distinct.ne_missing(out)
    if not changed.any():
        return series
    if changed.filter(distinct.is_null()).any():
        return _apply(series, fn)  # fn gives nulls a value: `replace` cannot express it
    return series.replace(distinct.filter(changed), out.filter(changed))


def map_distinct(series: pl.Series, fn: ElementWise, distinct: pl.Series) -> pl.Series:
    """`fn(series)` for any element-wise `fn` (`distinct` from code_values): one hash lookup
    per row instead of `fn`'s work per row."""
    if not _maps_null_to_null(fn, series.dtype):
        return _apply(series, fn)
    keys = distinct.drop_nulls()
    out = _apply(keys, fn)
    return series.replace_strict(keys, out, default=None, return_dtype=out.dtype)


def duplicated(frame: pl.DataFrame) -> pl.Series:
    """Exactly `frame.is_duplicated()` (rows whose values all repeat in another row; nulls
    equal), for text and integer columns.

    polars' is_duplicated builds a hash table of the rows; sorting a 64-bit hash per row finds the
    hash values that occur twice for a fraction of that; only rows carrying such a value (true
    duplicates, or a rare hash collision) get the exact test, and every copy of a duplicated row
    carries the same hash.
    """
    hashes = frame.hash_rows()
    ordered = hashes.sort()
    repeated = ordered.filter(ordered == ordered.shift(1))
    result = pl.repeat(False, frame.height, dtype=pl.Boolean, eager=True).alias("")
    if repeated.is_empty():
        return result
    candidates = hashes.is_in(repeated.unique().implode()).arg_true()
    exact = frame[candidates].is_duplicated()
    return result.scatter(candidates.filter(exact), True)
