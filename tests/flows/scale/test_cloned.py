"""The cloned-notes measure a bucket at a time (flows/scale/cloned.py) is the measure over every
note at once (checks.measures.cloned_documentation): hypothesis spreads the rows of the notes
over partitions at random, a note's rows often in two of them (a note id that names two
patients is cut apart by patient), with texts repeated, blank and missing, dates in and out of
the audit period, and any number of buckets."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.measures import CLONED_SCHEMA, cloned_documentation, note_text_hash
from checks.period import in_period
from flows.scale.cloned import NOTE_PARTS, WHOLE_NOTES, cloned_measure, write_note_parts

PERIOD = (dt.date(2026, 2, 1), dt.date(2026, 3, 31))
TEXTS = ("Gait training, 20 min.", "GAIT TRAINING, 20 MIN. ", "Step one.", "Step two.", "", None)

row = st.fixed_dictionaries(
    {
        "note_id": st.sampled_from([f"N{i}" for i in range(10)]),
        "provider_npi": st.sampled_from(["1000000001", "1000000002", "1000000003"]),
        "service_date": st.dates(dt.date(2026, 1, 1), dt.date(2026, 5, 31)),
        "note_text": st.sampled_from(TEXTS),
        "partition": st.integers(0, 3),
    }
)


def _by_buckets(notes: pl.DataFrame, period: tuple[dt.date, dt.date] | None, buckets: int,
                work: Path) -> pl.DataFrame:  # fmt: skip
    (work / NOTE_PARTS).mkdir()
    parts = []
    for (k,), piece in notes.partition_by("partition", as_dict=True).items():
        parts += write_note_parts(piece.drop("partition"), period, buckets, work / NOTE_PARTS, k)
    return cloned_measure(parts, work / WHOLE_NOTES)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row, min_size=0, max_size=40),
    buckets=st.integers(1, 5),
    with_period=st.booleans(),
)
def test_a_bucket_at_a_time_is_every_note_at_once(
    rows: list[dict[str, object]], buckets: int, with_period: bool
) -> None:
    schema = {"note_id": pl.String, "provider_npi": pl.String, "service_date": pl.Date,
              "note_text": pl.String, "partition": pl.Int64}  # fmt: skip
    notes = pl.DataFrame(rows, schema=schema).with_columns(note_text_hash(pl.col("note_text")))
    period = PERIOD if with_period else None
    whole = cloned_documentation(notes.lazy().filter(in_period(period)))
    with tempfile.TemporaryDirectory() as folder:
        split = _by_buckets(notes, period, buckets, Path(folder))
    assert split.schema == CLONED_SCHEMA
    assert split.equals(whole, null_equal=True)


def test_a_note_cut_in_two_is_one_note(tmp_path: Path) -> None:
    """N1's two rows are read in two partitions; whole, N1 is N2's clone (the same two rows),
    and N3 (one of those rows alone) is nobody's."""
    notes = pl.DataFrame(
        {
            "note_id": ["N1", "N1", "N2", "N2", "N3"],
            "provider_npi": ["A", "A", "B", "B", "B"],
            "service_date": [dt.date(2026, 2, 2)] * 5,
            "note_text": ["Step one.", "Step two.", "step two.", "STEP ONE.", "Step one."],
            "partition": [0, 1, 2, 2, 3],
        }
    ).with_columns(note_text_hash(pl.col("note_text")))
    out = _by_buckets(notes, None, 3, tmp_path)
    assert out.rows() == [("A", 1, 1, 1.0), ("B", 2, 1, 0.5)]


def test_notes_without_text_hashes_give_no_rows(tmp_path: Path) -> None:
    """--redact or no note text: the notes carry no TEXT_HASH, and the measure is empty, as
    over every note at once."""
    notes = pl.DataFrame({"note_id": ["N1"], "provider_npi": ["A"],
                          "service_date": [dt.date(2026, 2, 2)], "partition": [0]})  # fmt: skip
    assert _by_buckets(notes, None, 2, tmp_path).equals(pl.DataFrame(schema=CLONED_SCHEMA))
