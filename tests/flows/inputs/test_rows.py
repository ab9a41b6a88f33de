"""flows.inputs.rows: the blank-row test equals testing every cell, and the columns ingest adds
share the file's chunks (the fast paths)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.inputs.read import read_export
from flows.inputs.rows import blank_rows, constant, row_numbers
from schemas.contract import SOURCE_FILE, SOURCE_ROW
from schemas.normalize import normalize
from schemas.text import blank_to_null
from tests.support.rows import VALID
from tests.support.strategies import TEXT


def _every_cell(df: pl.DataFrame) -> pl.Series:
    """Blank rows as ingest found them before its fast paths: every cell of every row tested."""
    blank = [
        blank_to_null(pl.col(c)).is_null() if t == pl.String else pl.col(c).is_null()
        for c, t in df.schema.items()
    ]
    return df.select(pl.all_horizontal(blank)).to_series()


def _check(df: pl.DataFrame) -> None:
    expected = _every_cell(df)
    got = blank_rows(df)
    if not expected.any():
        assert got is None
    else:
        assert got is not None and got.to_list() == expected.to_list()


BLANKISH = st.sampled_from([None, "", " ", "\t", "\u00a0", "\u3000", "\u200b"])


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_blank_rows_equal_testing_every_cell(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 25))
    width = data.draw(st.integers(1, 4))
    columns: dict[str, pl.Series] = {}
    for i in range(width):
        if data.draw(st.booleans()):
            values = data.draw(st.lists(BLANKISH | TEXT, min_size=n, max_size=n))
            columns[f"t{i}"] = pl.Series(values, dtype=pl.String)
        else:
            values = data.draw(st.lists(st.none() | st.integers(0, 9), min_size=n, max_size=n))
            columns[f"n{i}"] = pl.Series(values, dtype=pl.Int64)
    _check(pl.DataFrame(columns))


@pytest.mark.parametrize(
    "columns",
    [
        {"a": ["x", None, " "], "b": [None, None, "\t"]},  # blank rows only where all are
        {"a": ["x", "y"], "b": [None, None]},  # a column of nulls alone is no blank row
        {"n": [1, None, None], "a": [None, None, "x"]},  # typed column tested first
        {"n": [1, 2], "a": [None, None]},  # typed column without nulls settles it
        {"a": [None, None], "n": [None, None]},
    ],
)
def test_blank_rows_truth_table(columns: dict[str, list[object]]) -> None:
    _check(pl.DataFrame(columns))


def _chunked(n_chunks: int) -> pl.DataFrame:
    parts = [pl.DataFrame({"a": [f"x{i}", None], "b": [i, i]}) for i in range(n_chunks)]
    return pl.concat(parts, rechunk=False)


@pytest.mark.parametrize("n_chunks", [1, 3])
def test_added_columns_follow_the_frames_chunks(n_chunks: int) -> None:
    df = _chunked(n_chunks)
    rows = row_numbers(df, SOURCE_ROW)
    names = constant(df, SOURCE_FILE, "f.parquet", pl.String())
    assert rows.to_list() == list(range(1, df.height + 1)) and rows.dtype == pl.Int64
    assert names.to_list() == ["f.parquet"] * df.height
    assert rows.chunk_lengths() == names.chunk_lengths() == df["a"].chunk_lengths()
    empty = df.clear()
    assert row_numbers(empty, SOURCE_ROW).len() == constant(empty, "x", None, pl.String()).len()


def test_parquet_row_groups_stay_aligned_through_normalize(tmp_path: Path) -> None:
    rows = [{**VALID["claims"], "claim_id": f"C{i}"} for i in range(30)]
    path = tmp_path / "claims.parquet"
    pl.DataFrame(rows).drop("payer_id").write_parquet(path, row_group_size=7)
    raw = read_export("claims", path)
    assert len(set(map(tuple, [raw.frame[c].chunk_lengths() for c in raw.frame.columns]))) == 1
    assert raw.frame[SOURCE_ROW].to_list() == list(range(1, 31))
    assert raw.frame["payer_id"].null_count() == 30
    typed = normalize("claims", raw.frame, raw.formats).typed
    assert typed["claim_id"].to_list() == [f"C{i}" for i in range(30)]
