"""flows.inputs.formats: the one list of input file types (the readers' registry) and the one rule
for ignored files, held by every place that lists a folder: ingest, the drop folder and the run
record's input hashes; the reviewed-findings file reads a subset of the same types."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from flows.inputs.formats import READERS, input_files, is_ignored, is_input, listed
from flows.inputs.formats.base import FileRead
from flows.inputs.formats.x12 import X12_SUFFIXES
from flows.inputs.mapping import ExportMapping
from flows.inputs.read import read_export
from flows.schedule.drop import newest_exports
from flows.state.dispositions import READ_SUFFIXES, load_dispositions
from flows.state.history import describe_inputs
from schemas.errors import InputError
from tests.support.paths import ROOT
from tests.support.rows import valid_row, write_csv_text

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_input_types_are_exactly_the_documented_ones() -> None:
    assert tuple(READERS) == (".csv", ".parquet", ".xlsx", *X12_SUFFIXES)
    assert listed() == ".csv, .parquet, .xlsx, .837, .835, .x12, .edi, .txt or .dat"
    for suffix in READERS:
        assert f"`{suffix}`" in README


def test_each_type_has_one_reader_module_named_after_it() -> None:
    for suffix, reader in READERS.items():
        # the X12 suffixes share one reader: the content decides (ISA)
        module = "x12" if suffix in X12_SUFFIXES else suffix.lstrip(".")
        assert reader.__module__ == f"flows.inputs.formats.{module}"
        assert reader.__name__ == "read"


def test_listed_names_suffixes_as_the_messages_do() -> None:
    assert listed([".csv"]) == ".csv"
    assert listed((".csv", ".xlsx")) == ".csv or .xlsx"
    assert listed([".a", ".b", ".c", ".d"]) == ".a, .b, .c or .d"


def test_hidden_and_lock_files_are_ignored_whatever_their_type(tmp_path: Path) -> None:
    for name in ("a.csv", "B.Parquet", "c.xlsx", ".hidden.csv", "~$c.xlsx", "~$a.csv", "x.txt"):
        (tmp_path / name).write_text("x")
    (tmp_path / "folder.csv").mkdir()  # not a file, whatever its name says
    assert [p.name for p in input_files(tmp_path)] == ["B.Parquet", "a.csv", "c.xlsx"]
    assert is_ignored(tmp_path / ".hidden.csv") and is_ignored(tmp_path / "~$c.xlsx")
    assert not is_ignored(tmp_path / "x.txt") and not is_input(tmp_path / "x.txt")
    (tmp_path / "y.txt").write_text("ISA*00*")  # a .txt that is X12 is an input
    assert is_input(tmp_path / "y.txt")


def hidden_and_locked(folder: Path, export: str) -> None:
    """A real file, then a hidden copy and an Office lock file, both newer and both readable."""
    folder.mkdir(parents=True)
    write_csv_text(folder / "real.csv", [valid_row(export, **{f"{export[:-1]}_id": "REAL"})])
    os.utime(folder / "real.csv", (1_700_000_000, 1_700_000_000))
    for name in (".copy.csv", "~$real.csv"):
        write_csv_text(folder / name, [valid_row(export, **{f"{export[:-1]}_id": "IGNORED"})])


def test_ingest_the_drop_folder_and_the_run_record_ignore_the_same_files(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    hidden_and_locked(drop / "claims", "claims")
    for export in ("notes", "plans"):
        write_csv_text(drop / f"{export}.csv", [valid_row(export)])
    raw = read_export("claims", drop / "claims")
    assert raw.frame["claim_id"].to_list() == ["REAL"]
    assert [f.name for f in raw.files] == ["claims/real.csv"]
    assert newest_exports(drop)["claims"] == drop / "claims" / "real.csv"
    inputs = describe_inputs(drop / "claims", drop / "notes.csv", drop / "plans.csv")
    assert inputs["claims"]["files"] == 1


def read_tsv(label: str, path: Path, spec: ExportMapping) -> FileRead:
    return FileRead(pl.read_csv(path, separator="\t", infer_schema=False), "utf-8")


def test_one_registry_entry_is_all_a_new_format_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(READERS, ".tsv", read_tsv)
    row = valid_row("plans")
    folder = tmp_path / "plans"
    folder.mkdir()
    (folder / "plans.tsv").write_text("\t".join(row) + "\n" + "\t".join(row.values()) + "\n")
    (folder / "~$plans.tsv").write_text("lock")
    raw = read_export("plans", folder)
    assert raw.frame["plan_id"].to_list() == [row["plan_id"]]
    assert raw.files[0].format == "tsv"
    assert describe_inputs(folder, folder, folder)["plans"]["files"] == 1
    for export in ("claims", "notes"):
        (tmp_path / f"{export}.csv").write_text("x")
    assert newest_exports(tmp_path)["plans"] == folder / "plans.tsv"
    (tmp_path / "empty").mkdir()
    with pytest.raises(
        InputError, match=r"has no \.csv, \.parquet, \.xlsx, \.837, .* or \.tsv files"
    ):
        read_export("plans", tmp_path / "empty")


def test_the_reviewed_findings_file_reads_input_types_only(tmp_path: Path) -> None:
    assert set(READ_SUFFIXES) < set(READERS)
    path = tmp_path / "reviewed.parquet"
    path.write_text("x")
    with pytest.raises(InputError) as caught:
        load_dispositions(path)
    assert str(caught.value) == f"reviewed-findings file '{path}' must be a .csv or .xlsx file"
