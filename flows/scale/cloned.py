"""The cloned-notes measure of a partitioned run (checks/measures.py), a bucket at a time.

The measure groups every note by its id and then every note by its fingerprint: over the whole
store at once, both groupings hold every note (53 million of them for 100 million lines). Here
each patient partition writes its notes' parts (note_parts) by bucket of the note id while its
rows are in memory; each note bucket then merges the parts of its notes (the rows of a note
read in two partitions meet in one bucket) and writes the whole notes by bucket of their
fingerprint; each fingerprint bucket counts its clones, and the counts add up. What is in
memory at once is one bucket's notes.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from checks.measures import (
    CLONED_SCHEMA,
    TEXT_HASH,
    cloned_counts,
    cloned_shares,
    merge_note_parts,
    note_parts,
)
from checks.period import Period, in_period
from flows.scale.buckets import by_bucket, write_buckets, write_by_key
from flows.scale.cut import BUCKET

NOTE_PARTS = "note-parts"  # in the provider cut's folder: note_parts by bucket of the note id
WHOLE_NOTES = "whole-notes"  # there too: merged notes by bucket of their fingerprint


def write_note_parts(
    notes: pl.DataFrame, period: Period | None, buckets: int, folder: Path, k: int
) -> list[Path]:
    """Patient partition K's notes within `period` as note_parts, by bucket of the note id
    (none when the notes carry no TEXT_HASH: no note text, or --redact)."""
    if TEXT_HASH not in notes.columns:
        return []
    parts = note_parts(notes.lazy().filter(in_period(period)))
    return write_by_key(parts.collect(), "note_id", buckets, folder, k)


def cloned_measure(parts: Iterable[Path], folder: Path) -> pl.DataFrame:
    """CLONED_SCHEMA over the files write_note_parts wrote; `folder` takes the whole notes."""
    by_id = by_bucket(parts)
    buckets = max(len(by_id), 1)
    folder.mkdir(parents=True, exist_ok=True)
    by_print: dict[int, list[Path]] = {}
    for j, (_, files) in enumerate(sorted(by_id.items())):
        whole = merge_note_parts(pl.scan_parquet(files)).drop("note_id")
        # equal fingerprints have equal _xor: one bucket holds every note of a fingerprint
        whole = whole.with_columns((pl.col("_xor") % buckets).cast(pl.Int32).alias(BUCKET))
        for i, path in write_buckets(whole.collect(), folder, j):
            by_print.setdefault(i, []).append(path)
    counts = [cloned_counts(pl.scan_parquet(files)).collect() for files in by_print.values()]
    if not counts:
        return pl.DataFrame(schema=CLONED_SCHEMA)
    return cloned_shares(pl.concat(counts).lazy()).collect()
