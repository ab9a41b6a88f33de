"""The cut of a large audit: each export read once, a slice of rows at a time, and written to a
work folder in patient partitions, so that validation and the rules can take one partition at a
time (flows/run/partitioned.py) and no stage holds every row read.

What a partition holds, and why the findings are those of one pass:
- every row of a patient, in every export: the bucket is a hash of the patient id as the
  contract cleans it (schemas/normalize.py), the cut flows/scale/partitions.py makes for the
  Dask rules, so each patient-level rule sees all of a patient's rows;
- every claim line that shares its (claim_id, line_number) with another one: the contract sets
  aside every row of a repeated key, so the rows of a key billed under patients of different
  partitions all go to the lowest of those partitions, where validation quarantines them
  together (they never reach a rule, so taking them from their patients changes no finding).

A file is read by its format's reader, Parquet in slices of `slice_rows` rows (row groups a slice
does not touch are skipped), the other formats whole. Each slice is read and mapped as
flows/inputs/read.py reads a file (its row numbers, blank rows, mapping filters and the file's
own values for the quarantine), and its rows as read go to one Parquet file per partition it
touches (`<file>/_bucket=K/slice-N.parquet`). The claim lines keep their partition and key
hashes, so that once every claims file is cut the repeated keys found across partitions are
read into the partition where they meet (CutExport.rows) without writing anything again. The
repeated keys are found one shard of keys at a time (as many shards as partitions, every copy of
a key in one shard), so that finding them holds about one partition's keys, not every line's. The
work folder holds the rows as read, patient ids and note text among them: it lives in the
system's temporary folder (or --work-dir) and is removed when the run ends.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import polars as pl

from flows.inputs.formats import parquet as parquet_format
from flows.inputs.formats.base import FileRead
from flows.inputs.mapping import ExportMapping, SourceMapping
from flows.inputs.read import (
    RawExport,
    SourceFile,
    concat_frames,
    contract_frame,
    export_spec,
    list_files,
    read_source,
)
from flows.scale.partitions import bucket
from schemas.contract import COLUMNS, SOURCE_FILE, SOURCE_ROW, UNIQUE_KEYS
from schemas.errors import InputError
from schemas.normalize import normalize

# the exports cut by patient: the providers and remits exports are small and read whole
CUT_EXPORTS = ("claims", "notes", "plans")
BUCKET = "_bucket"
_KEYS = ("_key1", "_key2")  # two 64-bit hashes of a claim line's (claim_id, line_number)
_TO = "_to"
KEYS = "_keys"  # beside a claims export's files: their key hashes by shard (_write_keys)
DEFAULT_SLICE_ROWS = 1_000_000
# the work folder's files are written once and read once or twice, on the same disk: LZ4 costs
# a fraction of the CPU of Parquet's default zstd
WORK_COMPRESSION: Final = "lz4"


@dataclass(frozen=True)
class CutFile:
    """One input file as cut: `source` keeps what was learnt of the whole file (name, format,
    headers, blank and filtered rows, reader problems) with no rows; `folder` its partitions."""

    source: SourceFile
    folder: Path


@dataclass(frozen=True)
class CutExport:
    export: str
    path: Path
    formats: dict[str, str]
    spec: ExportMapping
    files: tuple[CutFile, ...]
    # claims: the repeated claim-line keys that meet in another partition (_moves)
    moves: pl.DataFrame | None = None

    def rows(self, f: CutFile, k: int) -> pl.DataFrame:
        """The file's rows of partition `k`, in file order: for the claims, without the lines
        whose repeated key meets in another partition and with those meeting here."""
        folder = f.folder / f"{BUCKET}={k}"
        if self.moves is None:
            return (
                pl.read_parquet(folder, hive_partitioning=False).sort(SOURCE_ROW)
                if folder.is_dir()
                else f.source.original
            )
        mine = (
            [pl.scan_parquet(folder / "*.parquet", hive_partitioning=False)]
            if folder.is_dir()
            else []
        )
        if self.moves.height:
            away = self.moves.filter(pl.col(_TO) != k).lazy()
            mine = [m.join(away, on=list(_KEYS), how="anti") for m in mine]
            here = self.moves.filter(pl.col(_TO) == k).lazy()
            others = [d for d in f.folder.iterdir() if d.name != folder.name]
            mine += [
                pl.scan_parquet(d / "*.parquet", hive_partitioning=False).join(
                    here, on=list(_KEYS), how="semi"
                )
                for d in others
            ]
        if not mine:
            return f.source.original
        return pl.concat(mine).drop(*_KEYS, BUCKET).collect().sort(SOURCE_ROW)

    def partition(self, k: int) -> RawExport:
        """Partition `k` of the export, read as flows/inputs/read.read_export reads a file:
        each file's rows of the partition in file order, its counts of blank and filtered rows
        left to `whole` (they belong to no partition)."""
        sources = []
        for f in self.files:
            original = self.rows(f, k)
            problems = f.source.problems
            if problems is not None and problems.height:
                problems = problems.filter(
                    pl.col("source_row").is_in(original.get_column(SOURCE_ROW).implode())
                )
            sources.append(
                dataclasses.replace(
                    f.source, original=original, blank_rows=0, filtered_rows=0, problems=problems
                )
            )
        frame = concat_frames([contract_frame(self.export, s, self.spec) for s in sources])
        return RawExport(self.export, self.path, frame, tuple(sources), self.formats)

    def whole(self) -> RawExport:
        """The export's files with their whole-file counts and no rows: validation.json's view
        of the files (flows/scale/validate.py)."""
        frame = concat_frames(
            [contract_frame(self.export, f.source, self.spec) for f in self.files]
        )
        sources = tuple(f.source for f in self.files)
        return RawExport(self.export, self.path, frame, sources, self.formats, is_released=True)


def _slices(label: str, path: Path, slice_rows: int) -> Iterator[tuple[FileRead | None, int]]:
    """(slice read, its first row number) of the file: None = read it whole."""
    if path.suffix.lower() != ".parquet":
        yield None, 1
        return
    total = parquet_format.rows(label, path)
    for offset in range(0, max(total, 1), slice_rows):
        yield parquet_format.read_rows(label, path, offset, slice_rows), offset + 1


def _patients(export: str, frame: pl.DataFrame, formats: dict[str, str], k: int) -> pl.DataFrame:
    """Each row's partition (and a claim line's key hashes), from the ids as the contract cleans
    them: the contract's own parser over just those columns."""
    wanted = ["patient_id", *UNIQUE_KEYS.get(export, ())]
    required = [c.name for c in COLUMNS[export] if c.required and c.name not in wanted]
    ids = frame.select(SOURCE_FILE, SOURCE_ROW, *wanted).with_columns(
        pl.lit(None, pl.String).alias(c) for c in required
    )
    typed = normalize(export, ids, formats).typed
    out = typed.select(bucket("patient_id", k).cast(pl.Int32).alias(BUCKET))
    if export == "claims":
        key = pl.struct("claim_id", "line_number")
        whole = pl.col("claim_id").is_not_null() & pl.col("line_number").is_not_null()
        out = out.hstack(
            typed.select(
                pl.when(whole).then(key.hash(seed=1)).alias(_KEYS[0]),
                pl.when(whole).then(key.hash(seed=2)).alias(_KEYS[1]),
            )
        )
    return out


def _write_keys(labelled: pl.DataFrame, k: int, keys: Path, name: str) -> None:
    """A claims slice's key hashes and partitions, written to `k` shards by key (`keys`/<shard>):
    every copy of a key lands in one shard, so the repeated keys are found a shard at a time."""
    rows = labelled.select(*_KEYS, BUCKET).drop_nulls(_KEYS[0])
    shard = (pl.col(_KEYS[0]) % k).cast(pl.Int32).alias("_shard")
    by_shard = rows.with_columns(shard).partition_by("_shard", as_dict=True, maintain_order=False)
    for (j,), piece in by_shard.items():
        where = keys / str(j)
        where.mkdir(parents=True, exist_ok=True)
        piece.drop("_shard").write_parquet(where / name, compression=WORK_COMPRESSION)


def _cut_file(
    export: str,
    path: Path,
    name: str,
    spec: ExportMapping,
    k: int,
    folder: Path,
    slice_rows: int,
) -> CutFile:
    label = f"{export} file '{path}'"
    folder.mkdir(parents=True)
    keys = folder.parent / KEYS / folder.name
    first: SourceFile | None = None
    blank = filtered = rows = 0
    problems: list[pl.DataFrame] = []
    for i, (found, first_row) in enumerate(_slices(label, path, slice_rows)):
        source = read_source(export, path, name, spec, found, first_row)
        first = source if first is None else first
        blank, filtered, rows = (
            blank + source.blank_rows,
            filtered + source.filtered_rows,
            rows + source.original.height,
        )
        if source.problems is not None:
            problems.append(source.problems)
        if source.original.height:
            parts = _patients(export, contract_frame(export, source, spec), spec.formats, k)
            labelled = source.original.hstack(parts)
            # in any order of the partitions: CutExport.rows puts a partition's rows back in
            # file order, and the groups' order costs a sort
            by_bucket = labelled.partition_by(BUCKET, as_dict=True, maintain_order=False)
            for (b,), part in by_bucket.items():
                where = folder / f"{BUCKET}={b}"
                where.mkdir(exist_ok=True)
                # a claim line keeps its partition and key hashes for the moves (CutExport.rows)
                kept = part if export == "claims" else part.drop(BUCKET)
                kept.write_parquet(where / f"slice-{i:06d}.parquet", compression=WORK_COMPRESSION)
            if export == "claims":
                _write_keys(labelled, k, keys, f"slice-{i:06d}.parquet")
    if first is None or rows == 0:
        raise InputError(f"{label} has no data rows")
    whole = dataclasses.replace(
        first,
        original=first.original.clear(),
        blank_rows=blank,
        filtered_rows=filtered,
        problems=pl.concat(problems) if problems else None,
    )
    return CutFile(whole, folder)


def _moves(keys: Path, k: int) -> pl.DataFrame:
    """Claim-line keys found in more than one partition -> the lowest of them, one key shard
    (_write_keys) at a time: a grouping of every line's key at once would hold them all (about
    a gigabyte per ten million lines)."""
    found = [pl.DataFrame(schema={_KEYS[0]: pl.UInt64, _KEYS[1]: pl.UInt64, _TO: pl.Int32})]
    for j in range(k):
        shard = list(keys.glob(f"*/{j}/*.parquet"))
        if not shard:
            continue
        found.append(
            pl.scan_parquet(shard, hive_partitioning=False)
            .group_by(_KEYS)
            .agg(pl.col(BUCKET).min().alias(_TO), pl.col(BUCKET).n_unique().alias("_n"))
            .filter(pl.col("_n") > 1)
            .select(*_KEYS, _TO)
            .collect()
        )
    remove(keys)
    return pl.concat(found)


def cut_export(
    export: str,
    path: str | os.PathLike[str],
    mapping: SourceMapping | None,
    k: int,
    work: Path,
    slice_rows: int = DEFAULT_SLICE_ROWS,
) -> CutExport:
    """Cut one export (claims, notes or plans) into `k` patient partitions under `work`."""
    if export not in CUT_EXPORTS:
        raise ValueError(f"only {CUT_EXPORTS} are cut, not {export!r}")
    if k < 1 or slice_rows < 1:
        raise ValueError("a cut needs at least one partition and one row per slice")
    root = Path(path)
    files = list_files(export, root)
    spec = export_spec(export, files, mapping)
    folder = Path(os.path.abspath(root)).name if root.is_dir() else None
    cut = []
    for i, f in enumerate(files):
        name = f"{folder}/{f.name}" if folder else f.name
        cut.append(_cut_file(export, f, name, spec, k, work / export / f"{i:05d}", slice_rows))
    moves = _moves(work / export / KEYS, k) if export == "claims" else None
    return CutExport(export, root, dict(spec.formats), spec, tuple(cut), moves)


def remove(work: Path) -> None:
    """The work folder gone, rows and all (also after a failed run)."""
    shutil.rmtree(work, ignore_errors=True)
