"""The buckets of a partitioned run's reductions: rows each partition writes by a hash of a key
(a claim id, a note id), so that every row of one key is in one bucket and the reduction reads
a bucket at a time (flows/scale/store_rules.py's claim pairs, flows/scale/cloned.py's notes).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import polars as pl

from flows.scale.cut import BUCKET, WORK_COMPRESSION
from flows.scale.partitions import bucket

# A bucket holds about this many partitions' rows: each partition writes a file per bucket and
# each bucket reads one per partition, so there are partitions x buckets files, and a small
# file's fixed costs outweigh its rows (at 83 partitions, 83 buckets took four times as long).
PARTITIONS_PER_BUCKET = 4


def reduction_buckets(partitions: int) -> int:
    """How many buckets a reduction over `partitions` partitions writes (at least 1)."""
    return max(1, -(-partitions // PARTITIONS_PER_BUCKET))


def write_buckets(frame: pl.DataFrame, folder: Path, k: int) -> list[tuple[int, Path]]:
    """`frame`'s rows by its BUCKET column J, written to `folder/_bucket=J/K.parquet` by
    partition K: (J, file) of each."""
    written = []
    for (j,), piece in frame.partition_by(BUCKET, as_dict=True).items():
        where = folder / f"{BUCKET}={j}"
        where.mkdir(exist_ok=True)  # in a folder the run made: never its parents
        path = where / f"{k:05d}.parquet"
        piece.drop(BUCKET).write_parquet(path, compression=WORK_COMPRESSION)
        written.append((int(j), path))
    return written


def write_by_key(frame: pl.DataFrame, key: str, buckets: int, folder: Path, k: int) -> list[Path]:
    """`frame`'s rows written by write_buckets, in `buckets` buckets of a hash of `key`."""
    keyed = frame.with_columns(bucket(key, buckets).cast(pl.Int32).alias(BUCKET))
    return [path for _, path in write_buckets(keyed, folder, k)]


def by_bucket(files: Iterable[Path]) -> dict[str, list[Path]]:
    """write_buckets' files by their bucket's folder name, each bucket's in the order given."""
    buckets: dict[str, list[Path]] = {}
    for path in files:
        buckets.setdefault(path.parent.name, []).append(path)
    return buckets
