"""What validation lets go of, and the note-text hash taken from the rows read: the rows of an
export are released once it is checked, and the hash taken in slices equals the hash of the
contract's cleaned text (the cloned-documentation measure compares notes by it)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import measures
from checks.measures import TEXT_HASH, note_text_hash, note_text_hashes
from flows.inputs.read import read_export
from flows.inputs.validate import NOTE_TEXT, validate_inputs, validate_raws
from tests.support.rows import VALID, valid_row, write_csv_text

TEXTS = st.one_of(
    st.none(),
    st.sampled_from(["", "   ", "Pain 4/10", " pain 4/10 ", "PAIN 4/10\n", "\tGait training."]),
    st.text(max_size=12),
)


@settings(max_examples=60)
@given(texts=st.lists(TEXTS, max_size=14), size=st.integers(1, 5))
def test_hash_in_slices_equals_the_hash_of_the_cleaned_text(
    texts: list[str | None], size: int
) -> None:
    """Slicing never changes a hash: any slice size, any text (blank, padded, cased)."""
    column = pl.Series(NOTE_TEXT, texts, dtype=pl.String)
    whole = column.to_frame().select(note_text_hash(pl.col(NOTE_TEXT))).to_series()
    original = measures.HASH_SLICE
    measures.HASH_SLICE = size
    try:
        sliced = note_text_hashes(column)
    finally:
        measures.HASH_SLICE = original
    assert sliced.name == TEXT_HASH
    assert sliced.to_list() == whole.to_list()
    # the contract strips and blanks text before it is hashed: the raw rows give the same hash
    cleaned = column.str.strip_chars()
    cleaned = cleaned.zip_with(cleaned.str.len_bytes() > 0, pl.Series([None] * len(texts)))
    expected = cleaned.to_frame().select(note_text_hash(pl.col(NOTE_TEXT))).to_series()
    assert sliced.to_list() == expected.to_list()


def test_a_typed_note_text_column_is_hashed_as_its_text() -> None:
    """A spreadsheet can type a note of digits as a number: hashed as the text it shows."""
    numbers = pl.Series(NOTE_TEXT, [12.0, None, 3.5])
    as_text = pl.Series(NOTE_TEXT, ["12", None, "3.5"])
    assert note_text_hashes(numbers).to_list() == note_text_hashes(as_text).to_list()


def _inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {e: [valid_row(e)] for e in VALID}
    rows["claims"].append(valid_row("claims", units="many"))  # one quarantined row
    return {e: write_csv_text(folder / f"{e}.csv", r) for e, r in rows.items()}


def test_validation_releases_each_exports_rows_and_loses_nothing(tmp_path: Path) -> None:
    paths = _inputs(tmp_path / "in")
    raws = {e: read_export(e, p) for e, p in paths.items()}
    summary = validate_raws(raws, tmp_path / "released")
    for export, raw in raws.items():
        assert raw.frame.height == 0, export
        assert all(f.original.height == 0 for f in raw.files), export
        assert raw.files[0].name == paths[export].name  # names and counts stay
    # the same exports validated without anyone holding the rows: the same files, byte for byte
    again = validate_inputs(
        paths["claims"],
        paths["notes"],
        paths["plans"],
        tmp_path / "whole",
        providers=paths.get("providers"),
        remits=paths.get("remits"),
    )
    assert summary.claims.equals(again.claims) and summary.notes.equals(again.notes)
    for name in ("quarantine.csv", "validation.json"):
        assert (tmp_path / "released" / name).read_bytes() == (
            tmp_path / "whole" / name
        ).read_bytes()
    quarantined = json.loads((tmp_path / "released" / "validation.json").read_text())
    assert quarantined["exports"]["claims"]["rows_quarantined"] > 0  # the quarantine was built


@pytest.mark.parametrize("export", ["claims", "notes"])
def test_released_export_keeps_its_file_descriptions(tmp_path: Path, export: str) -> None:
    path = _inputs(tmp_path)[export]
    raw = read_export(export, path)
    released = raw.released()
    assert released.frame.columns == raw.frame.columns
    assert [(f.name, f.format, f.blank_rows) for f in released.files] == [
        (f.name, f.format, f.blank_rows) for f in raw.files
    ]


def test_an_export_validated_twice_is_an_error_not_an_empty_audit(tmp_path: Path) -> None:
    """Its rows are gone after the first validation: a retry must fail loudly, never accept
    nothing."""
    paths = _inputs(tmp_path / "in")
    raws = {e: read_export(e, p) for e, p in paths.items()}
    validate_raws(raws, tmp_path / "first")
    with pytest.raises(ValueError, match="already validated"):
        validate_raws(raws, tmp_path / "second")
