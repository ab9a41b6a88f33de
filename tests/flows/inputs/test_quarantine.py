"""Quarantine files, formula neutralisation, validation.json and the row-accounting invariant."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from data import SAMPLE
from flows.cli.main import main
from flows.inputs.quarantine import QUARANTINE_SCHEMA
from flows.inputs.validate import validate_inputs
from flows.outputs.safe_csv import neutralise_formulas
from schemas.contract import SOURCE_FILE, SOURCE_ROW
from schemas.normalize import normalize
from schemas.validate import validate_export
from tests.support.rows import VALID, text_frame, valid_row, write_csv_text


def _good_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return {e: write_csv_text(folder / f"{e}.csv", [valid_row(e)]) for e in VALID}


def test_neutralise_formulas_prefixes_a_quote() -> None:
    df = pl.DataFrame(
        {
            "text": ["=1+1", "+A1", "-2", "@SUM(A1)", "\tx", "\rx", "ok", "a=b", None],
            "number": [-1, 2, 3, 4, 5, 6, 7, 8, 9],
        }
    )
    out = neutralise_formulas(df)
    assert out["text"].to_list() == [
        "'=1+1", "'+A1", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "ok", "a=b", None,
    ]  # fmt: skip
    assert out["number"].to_list() == df["number"].to_list()


def test_clean_run_writes_header_only_quarantine(tmp_path: Path) -> None:
    paths = _good_inputs(tmp_path / "in")
    result = validate_inputs(paths["claims"], paths["notes"], paths["plans"], tmp_path / "out")
    assert result.quarantine_csv.read_text().strip() == ",".join(QUARANTINE_SCHEMA)
    assert pl.read_parquet(result.quarantine_parquet).schema == pl.Schema(QUARANTINE_SCHEMA)
    assert (result.claims.height, result.notes.height, result.plans.height) == (1, 1, 1)
    assert result.summary["totals"]["rows_quarantined"] == 0


def test_quarantine_rows_carry_original_values_and_are_formula_safe(tmp_path: Path) -> None:
    paths = _good_inputs(tmp_path / "in")
    good = {f"  {k.title()} ": v for k, v in VALID["claims"].items()} | {"Front desk": ""}
    bad = good | {"  Claim_Id ": '=HYPERLINK("http://x")', "  Units ": "-3"}
    bad |= {"  Service_Date ": "13/45/2026", "Front desk": "@call back"}
    paths["claims"] = write_csv_text(tmp_path / "in" / "claims.csv", [good, bad])
    result = validate_inputs(paths["claims"], paths["notes"], paths["plans"], tmp_path / "out")

    quarantine = pl.read_parquet(result.quarantine_parquet)
    assert quarantine.select("export", "source_file", "source_row", "column").rows() == [
        ("claims", "claims.csv", 2, "service_date"),
        ("claims", "claims.csv", 2, "units"),
    ]
    original = json.loads(quarantine["original_values"][0])
    # The file's own header names and pre-parse text, extra columns included.
    assert original["  Claim_Id "] == '=HYPERLINK("http://x")'
    assert original["  Service_Date "] == "13/45/2026"
    assert original["Front desk"] == "@call back"

    csv = pl.read_csv(result.quarantine_csv, infer_schema=False)
    assert csv.columns == list(QUARANTINE_SCHEMA)
    for column in csv.columns:
        assert not csv[column].str.contains(r"^[=+\-@\t\r]").any()
    # Parquet keeps the real text; only the CSV is neutralised.
    assert quarantine["reason"].to_list() == [
        "service_date is not a date (expected YYYY-MM-DD or MM/DD/YYYY)",
        "units must be 0 or more",
    ]


def test_folder_of_good_and_bad_files_loses_no_row(tmp_path: Path) -> None:
    paths = _good_inputs(tmp_path / "in")
    folder = tmp_path / "in" / "notes"
    folder.mkdir()
    write_csv_text(folder / "1-good.csv", [valid_row("notes", note_id=f"G{i}") for i in range(3)])
    bad_rows = [
        valid_row("notes", note_id="B1", provider_npi="123"),
        valid_row("notes", note_id="B2"),
        valid_row("notes", note_id="B3", service_date="2026-99-01", minutes="x"),
        valid_row("notes", note_id="", procedure_code="1"),
    ]
    write_csv_text(folder / "2-mixed.csv", bad_rows)
    pl.DataFrame([valid_row("notes", start_time="9.00")]).write_parquet(folder / "3-bad.parquet")

    result = validate_inputs(paths["claims"], folder, paths["plans"], tmp_path / "out")
    problems = result.results["notes"].problems
    assert problems.select("source_file", "source_row", "column").rows() == [
        ("notes/2-mixed.csv", 1, "provider_npi"),
        ("notes/2-mixed.csv", 3, "minutes"),
        ("notes/2-mixed.csv", 3, "service_date"),
        ("notes/2-mixed.csv", 4, "note_id"),
        ("notes/2-mixed.csv", 4, "procedure_code"),
        ("notes/3-bad.parquet", 1, "start_time"),
    ]
    assert problems["reason"].str.len_chars().min() > 10
    assert result.notes["note_id"].to_list() == ["G0", "G1", "G2", "B2"]

    summary = json.loads(result.summary_path.read_text())
    notes = summary["exports"]["notes"]
    assert [f["source_file"] for f in notes["files"]] == [
        "notes/1-good.csv", "notes/2-mixed.csv", "notes/3-bad.parquet",
    ]  # fmt: skip
    counts = [(f["rows_read"], f["rows_accepted"], f["rows_quarantined"]) for f in notes["files"]]
    assert counts == [(3, 3, 0), (4, 1, 3), (1, 0, 1)]
    assert notes["problems_by_reason"]["start_time is not a time (expected HH:MM or HH:MM:SS)"] == 1
    assert "2026-99-01" not in result.summary_path.read_text()  # counts, never data
    assert summary["totals"] == {
        "rows_read": 10, "rows_accepted": 6, "rows_quarantined": 4, "rows_filtered": 0,
        "problems": 6, "warnings": 0,
    }  # fmt: skip


# ------------------------------------------------------------------------------ invariant
# Each defect breaks exactly the row it is put on (no duplicate keys: those break two rows).
DEFECTS: dict[str, dict[str, str | None]] = {
    "blank_id": {"claim_id": ""},
    "bad_date": {"service_date": "13/45/2026"},
    "bad_npi": {"rendering_npi": "0000000001"},
    "negative_units": {"units": "-1"},
    "bad_payer": {"payer_type": "cash"},
    "bad_amount": {"charge_amount": "12,34"},
    "bad_modifier": {"modifiers": "G"},
    "fraction_line": {"line_number": "1.5"},
}


# 1-3 files of 1-6 rows; each row is good (no defect) or carries one or two defects.
ROW = st.lists(st.sampled_from(sorted(DEFECTS)), max_size=2, unique=True)
FILES = st.lists(st.lists(ROW, min_size=1, max_size=6), min_size=1, max_size=3)


@settings(max_examples=50, deadline=None)
@given(FILES)
def test_rows_read_equal_accepted_plus_quarantined(files: list[list[list[str]]]) -> None:
    frames, expected_bad = [], set()
    for f, rows_defects in enumerate(files):
        rows = []
        for r, defects in enumerate(rows_defects, start=1):
            row = valid_row("claims", claim_id=f"C{f}-{r}")
            for defect in defects:
                row |= DEFECTS[defect]
            rows.append(row)
            if defects:
                expected_bad.add((f"file{f}.csv", r))
        frames.append(text_frame(rows, source_file=f"file{f}.csv"))
    frame = pl.concat(frames)
    normalized = normalize("claims", frame)
    result = validate_export("claims", normalized.typed, normalized.failures)

    assert result.rows_read == frame.height
    assert result.rows_read == result.rows_accepted + result.rows_quarantined
    for row in result.by_file.iter_rows(named=True):
        assert row["rows_read"] == row["rows_accepted"] + row["rows_quarantined"]
    assert result.by_file["rows_read"].sum() == frame.height
    quarantined = set(result.problems.select("source_file", "source_row").iter_rows())
    assert quarantined == expected_bad
    accepted = set(result.accepted.select(SOURCE_FILE, SOURCE_ROW).iter_rows())
    assert accepted.isdisjoint(quarantined)
    assert len(accepted) + len(quarantined) == frame.height


def test_quarantine_of_a_parquet_with_duration_times(tmp_path: Path) -> None:
    """Found in review: pandas writes time-of-day as a duration; quarantining a row of such a
    file crashed when its original values were turned into text."""
    notes = pl.read_csv(SAMPLE / "notes.csv", infer_schema=False).head(5)
    as_duration = {
        c: pl.col(c).str.strptime(pl.Time, "%H:%M").cast(pl.Int64).cast(pl.Duration("ns"))
        for c in ("start_time", "end_time")
    }
    notes = notes.with_columns(**as_duration).with_columns(
        minutes=pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("bad")).otherwise("minutes")
    )
    notes.write_parquet(tmp_path / "notes.parquet")
    result = validate_inputs(
        SAMPLE / "claims.csv", tmp_path / "notes.parquet", SAMPLE / "plans.csv", tmp_path / "o"
    )
    assert result.results["notes"].rows_quarantined == 1
    quarantine = pl.read_parquet(tmp_path / "o" / "quarantine.parquet")
    assert '"start_time":"PT' in quarantine["original_values"][0]


def test_parquet_bytes_that_are_not_utf8_are_one_error_line(tmp_path: Path, capsys) -> None:
    claims = pl.read_csv(SAMPLE / "claims.csv", infer_schema=False).head(5)
    claims = claims.with_columns(
        payer_id=pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit(b"\xff\xfe"))
        .otherwise(pl.col("payer_id").cast(pl.Binary))
    )
    claims.write_parquet(tmp_path / "claims.parquet")
    args = ["validate", "--claims", str(tmp_path / "claims.parquet")]
    args += ["--notes", str(SAMPLE / "notes.csv"), "--plans", str(SAMPLE / "plans.csv")]
    assert main([*args, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "payer_id" in err[0] and "UTF-8" in err[0]
