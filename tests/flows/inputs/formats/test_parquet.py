"""flows.inputs.formats.parquet: the stored types kept, binary columns as text, and one line for
a file that is not Parquet or holds bytes that are not text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

from flows.inputs.formats import parquet
from flows.inputs.mapping import ExportMapping
from flows.inputs.read import read_export
from schemas.errors import InputError
from tests.support.rows import VALID, accepted

LABEL = "notes file 'x'"


def test_parquet_with_native_types(tmp_path: Path) -> None:
    path = tmp_path / "notes.parquet"
    pl.DataFrame(
        {
            **{k: [v] for k, v in VALID["notes"].items()},
            "service_date": [dt.date(2026, 1, 5)],
            "start_time": [dt.time(9)],
            "end_time": [dt.time(9, 40)],
            "minutes": pl.Series([None], dtype=pl.Int32),
            "signed_at": [dt.datetime(2026, 1, 5, 12)],
        }
    ).write_parquet(path)
    row = accepted(read_export("notes", path)).row(0, named=True)
    assert (row["minutes"], row["minutes_derived"]) == (40, True)
    assert row["signed_at"] == dt.datetime(2026, 1, 5, 12)


def test_stored_types_are_kept_and_there_is_no_encoding(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pl.DataFrame({"id": ["007"], "units": [2], "day": [dt.date(2026, 1, 5)]}).write_parquet(path)
    frame, encoding = parquet.read(LABEL, path, ExportMapping())
    assert frame.schema == pl.Schema({"id": pl.String, "units": pl.Int64, "day": pl.Date})
    assert encoding is None


def test_binary_columns_become_text(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pl.DataFrame({"id": [b"P1", "Müller".encode()]}).write_parquet(path)
    frame, _ = parquet.read(LABEL, path, ExportMapping())
    assert frame["id"].dtype == pl.String and frame["id"].to_list() == ["P1", "Müller"]


def test_binary_that_is_not_utf8_refuses_the_file_without_quoting_it(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pl.DataFrame({"id": [b"P1", b"SSN\xff"]}).write_parquet(path)
    with pytest.raises(InputError) as caught:
        parquet.read(LABEL, path, ExportMapping())
    assert str(caught.value) == f"{LABEL}: column 'id' holds bytes that are not UTF-8 text"
