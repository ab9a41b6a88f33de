"""schemas.distinct: work done once per distinct value, and the duplicate test, give exactly what
the direct row-by-row computation gives."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_series_equal

from schemas.contract import npi_is_valid
from schemas.distinct import code_values, duplicated, map_distinct, replace_changed
from schemas.text import CODES, text_clean
from tests.support.strategies import CELLS

# NPIs: ASCII digits, an Arabic-Indic and a full-width digit (\d in the regex, not castable).
NPIS = st.lists(st.none() | st.text(alphabet="0123456789\u0661\uff12 a", max_size=11), max_size=40)


def _direct(series: pl.Series, fn) -> pl.Series:
    return series.to_frame("v").select(fn(pl.col("v"))).to_series()


@settings(max_examples=150, deadline=None)
@given(CELLS)
def test_replace_changed_equals_cleaning_every_row(values: list[str | None]) -> None:
    series = pl.Series("v", values, dtype=pl.String)
    for name in sorted(CODES):
        fn = text_clean(name)
        got = replace_changed(series, fn, series.unique())
        assert_series_equal(got, _direct(series, fn), check_names=False)


def test_replace_changed_returns_the_column_itself_when_nothing_changes() -> None:
    series = pl.Series("modifiers", ["GP", "GO:59", None, "KX"])
    assert replace_changed(series, text_clean("modifiers"), series.unique()) is series


def test_replace_changed_when_the_function_gives_nulls_a_value() -> None:
    series = pl.Series("v", ["a", None, "b", None])
    fn = lambda e: e.fill_null("x").str.to_uppercase()  # noqa: E731
    assert replace_changed(series, fn, series.unique()).to_list() == ["A", "X", "B", "X"]


@settings(max_examples=150, deadline=None)
@given(NPIS)
def test_map_distinct_equals_the_npi_check_on_every_row(values: list[str | None]) -> None:
    series = pl.Series("npi", values, dtype=pl.String)
    got = map_distinct(series, npi_is_valid, series.unique())
    assert_series_equal(got, _direct(series, npi_is_valid), check_names=False)


def test_map_distinct_when_the_function_gives_nulls_a_value() -> None:
    series = pl.Series("v", ["a", None, "a"])
    assert map_distinct(series, lambda e: e.is_null(), series.unique()).to_list() == [
        False,
        True,
        False,
    ]


def test_code_values_only_for_columns_of_few_distinct_values() -> None:
    codes = code_values(pl.Series(["medicare", "medicaid", None] * 100_000))
    assert codes is not None and sorted(codes.drop_nulls()) == ["medicaid", "medicare"]
    assert codes.null_count() == 1
    ids = pl.select(pl.int_range(0, 300_000).cast(pl.String)).to_series()
    assert code_values(ids) is None
    # 25 rows per patient, sorted: the first rows look like codes, the whole column is not.
    patients = pl.select((pl.int_range(0, 1_000_000) // 25).cast(pl.String)).to_series()
    assert code_values(patients) is None
    assert code_values(pl.Series([f"x{i}" for i in range(50)])) is not None  # tiny: cheap


KEYS = st.lists(
    st.tuples(st.none() | st.sampled_from(["C1", "C2", "", " C1"]), st.none() | st.integers(0, 3)),
    max_size=40,
)


def _key_frame(rows: list[tuple[str | None, int | None]]) -> pl.DataFrame:
    schema = {"claim_id": pl.String, "line_number": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


@settings(max_examples=200, deadline=None)
@given(KEYS)
def test_duplicated_equals_is_duplicated(rows: list[tuple[str | None, int | None]]) -> None:
    frame = _key_frame(rows)
    assert_series_equal(duplicated(frame), frame.is_duplicated())


@pytest.mark.parametrize("chunks", [1, 3])
def test_duplicated_is_exact_when_every_hash_collides(
    monkeypatch: pytest.MonkeyPatch, chunks: int
) -> None:
    rows = [("C1", 1), ("C1", 2), ("C2", 1), ("C1", 1), (None, 1), (None, 1), ("C2", None)]
    parts = [_key_frame(rows[i::chunks]) for i in range(chunks)]
    frame = pl.concat(parts, rechunk=False)
    expected = frame.is_duplicated()
    monkeypatch.setattr(
        pl.DataFrame, "hash_rows", lambda self, *a, **k: pl.repeat(7, self.height, eager=True)
    )
    assert_series_equal(duplicated(frame), expected)


def test_duplicated_without_duplicates_or_rows() -> None:
    assert duplicated(_key_frame([("C1", 1), ("C1", 2)])).to_list() == [False, False]
    assert duplicated(_key_frame([])).to_list() == []
