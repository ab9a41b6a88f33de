"""Validation of a cut audit (flows/scale/cut.py), one patient partition at a time: the same
contract, quarantine and counts as flows/inputs/validate.validate_raws, over rows that are never
all in memory.

Each partition's exports are read from the work folder, redacted when asked (one key for the
whole run), checked, and their accepted rows written to the store (`<store>/<export>/<K>.parquet`,
without note text or row origins, with the remittances' amounts on the claims); the problems,
warnings, per-file counts and the quarantine's rows are kept, and put together at the end as
one pass gives them: problems in (file, row, column, reason) order, counts summed per file, the
files' blank and filtered rows from the cut. The providers and remits exports are small and
validated whole. quarantine.csv and validation.json are then those of one pass.

A partition's check is one job (PartitionCheck -> check_partition -> PartitionChecked), run here
or on a Dask cluster that shares the work folder (flows/scale/mapper.py).
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from checks.base import MATCH_KEY
from checks.remits import apply_remits
from flows.inputs.counts import export_summary
from flows.inputs.mapping import SourceMapping
from flows.inputs.quarantine import QUARANTINE_SCHEMA, export_quarantine, stack_quarantine
from flows.inputs.read import RawExport
from flows.inputs.redact import redact_raw
from flows.inputs.validate import (
    NOTE_TEXT,
    SOURCE_COLUMNS,
    ValidationSummary,
    npi_warnings,
    validate_raw,
    validated,
)
from flows.scale.cut import WORK_COMPRESSION, CutExport
from flows.scale.mapper import PartitionMap, WorkMark, local_map
from flows.scale.partitions import provider_edges
from schemas.normalize import MINUTES_DERIVED
from schemas.validate import BY_FILE_SCHEMA, PROBLEM_SCHEMA, ValidationResult

_ORDER = ["source_file", "source_row", "column", "reason"]


@dataclass
class _Gathered:
    """One export's results over the partitions checked so far."""

    problems: list[pl.DataFrame] = field(default_factory=list)
    warnings: list[pl.DataFrame] = field(default_factory=list)
    by_file: list[pl.DataFrame] = field(default_factory=list)
    quarantine: list[pl.DataFrame] = field(default_factory=list)
    rows_read: int = 0
    rows_accepted: int = 0
    minutes_derived: int = 0
    accepted_schema: pl.Schema | None = None

    def add(self, checked: _Checked) -> None:
        result, part = checked.result, checked.quarantine
        self.problems.append(result.problems)
        self.warnings.append(result.warnings)
        self.by_file.append(result.by_file)
        if part is not None:
            self.quarantine.append(part)
        self.rows_read += result.rows_read
        self.rows_accepted += result.rows_accepted
        self.minutes_derived += checked.minutes_derived
        if self.accepted_schema is None:
            self.accepted_schema = result.accepted.schema

    def result(self, export: str) -> ValidationResult:
        """The export's result as one pass gives it, with no accepted row (they are in the
        store)."""
        problems = pl.concat([pl.DataFrame(schema=PROBLEM_SCHEMA), *self.problems]).sort(_ORDER)
        warnings = pl.concat([pl.DataFrame(schema=PROBLEM_SCHEMA), *self.warnings]).sort(_ORDER)
        by_file = (
            pl.concat([pl.DataFrame(schema=BY_FILE_SCHEMA), *self.by_file])
            .group_by("source_file")
            .agg(pl.col("rows_read", "rows_accepted", "rows_quarantined").sum())
            .select(BY_FILE_SCHEMA.keys())
            .cast(BY_FILE_SCHEMA)
            .sort("source_file")
        )
        return ValidationResult(
            export=export,
            accepted=pl.DataFrame(schema=self.accepted_schema),
            problems=problems,
            rows_read=self.rows_read,
            rows_accepted=self.rows_accepted,
            rows_quarantined=self.rows_read - self.rows_accepted,
            by_file=by_file,
            warnings=warnings,
        )

    def quarantined(self) -> pl.DataFrame | None:
        if not self.quarantine:
            return None
        return pl.concat(self.quarantine).sort(_ORDER).cast(QUARANTINE_SCHEMA)


@dataclass(frozen=True)
class Store:
    """The accepted rows of a cut audit, one Parquet file per export (of `exports`) and
    partition; once validated, the accepted claim lines of each partition and the providers who
    meet on a match key in each (flows/scale/partitions.provider_edges). Its files are named,
    never listed: on storage shared between machines a listing may lag behind another's writes."""

    folder: Path
    partitions: int
    exports: tuple[str, ...]
    edges: list[pl.DataFrame] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def file(self, export: str, k: int) -> Path:
        return self.folder / export / f"{k:05d}.parquet"

    def read(self, export: str, k: int) -> pl.DataFrame:
        return pl.read_parquet(self.file(export, k))

    def scan(self, export: str) -> pl.LazyFrame:
        return pl.scan_parquet([self.file(export, k) for k in range(self.partitions)])

    def slim(self) -> Store:
        """What a partition's job needs of the store: its place, not what validation found."""
        return Store(self.folder, self.partitions, self.exports)


def _check(
    raw: RawExport, warn: frozenset[str] | None, redacted: bool
) -> tuple[ValidationResult, pl.DataFrame | None]:
    result = validate_raw(raw.export, raw, warn)
    return result, export_quarantine(raw, result, hide_broken=redacted)


def _edges(accepted: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The partition's provider edges, computed while its rows are in memory: the provider cut
    of the rules (flows/scale/store_rules.py) then needs no pass over the store."""
    claims = accepted["claims"]
    notes = accepted.get("notes")
    if notes is None:  # a claims-only audit: its stand-in notes have no rows
        notes = claims.select(*MATCH_KEY).clear().with_columns(provider_npi=pl.lit(None, pl.String))
    return provider_edges(claims.lazy(), notes.lazy())


def _accepted(result: ValidationResult, remits: pl.DataFrame | None) -> pl.DataFrame:
    """What the rules read of an export's accepted rows (validated() drops the same)."""
    accepted = result.accepted.drop(NOTE_TEXT, *SOURCE_COLUMNS, strict=False)
    if result.export == "claims" and remits is not None:
        accepted = apply_remits(accepted.lazy(), remits.lazy()).collect()
    return accepted


@dataclass(frozen=True)
class _Checked:
    """One export of one partition as checked: its result without the accepted rows (they are
    in the store), its quarantine rows and how many of its minutes were derived from times."""

    result: ValidationResult
    quarantine: pl.DataFrame | None
    minutes_derived: int


@dataclass(frozen=True)
class PartitionChecked:
    """What check_partition sends back: small, whatever the partition's size."""

    exports: dict[str, _Checked]
    edges: pl.DataFrame
    paths: dict[tuple[str, str], Path]
    lines: int  # its accepted claim lines


@dataclass(frozen=True)
class PartitionCheck:
    """One partition's validation: everything check_partition needs, so that it can run on
    another machine that shares the work folder."""

    cut: dict[str, CutExport]
    k: int
    store: Store
    warn: frozenset[str] | None
    key: bytes | None
    remits: pl.DataFrame | None
    mark: WorkMark


def check_partition(job: PartitionCheck) -> PartitionChecked:
    """Partition `job.k` of the cut exports read, redacted when asked, checked (its exports side
    by side), its accepted rows written to the store and its provider edges taken."""
    job.mark.check()
    raws = {e: c.partition(job.k) for e, c in job.cut.items()}
    if job.key is not None:
        raws = {e: redact_raw(r, job.key) for e, r in raws.items()}
    # the files' names (redacted or not) are the same in every partition
    paths = {(e, f.name): f.path for e, r in raws.items() for f in r.files} if job.k == 0 else {}
    redacted = job.key is not None
    answers, kept = {}, {}
    with ThreadPoolExecutor(max_workers=len(raws) or 1, thread_name_prefix="validate") as pool:
        checked = {e: pool.submit(_check, r, job.warn, redacted) for e, r in raws.items()}
        del raws
        for export, future in checked.items():
            result, part = future.result()
            accepted = result.accepted
            minutes = (
                int(accepted[MINUTES_DERIVED].sum()) if MINUTES_DERIVED in accepted.columns else 0
            )
            # into the folder the run made (validate_partitions): a task that outlives a
            # failed run finds it gone and writes nothing
            kept[export] = _accepted(result, job.remits)
            kept[export].write_parquet(job.store.file(export, job.k), compression=WORK_COMPRESSION)
            slim = dataclasses.replace(result, accepted=accepted.clear())
            answers[export] = _Checked(slim, part, minutes)
    lines = kept["claims"].height if "claims" in kept else 0
    return PartitionChecked(answers, _edges(kept), paths, lines)


def validate_partitions(
    cut: dict[str, CutExport],
    whole: dict[str, RawExport],
    out_dir: Path,
    store: Store,
    mapping: SourceMapping | None = None,
    key: bytes | None = None,
    mapper: PartitionMap = local_map,
    mark: WorkMark | None = None,
) -> ValidationSummary:
    """Validate the cut exports partition by partition into `store`, and the exports read
    `whole` (providers, remits) at once; write quarantine.csv and validation.json to `out_dir`
    as one pass would. `key`: the run's redaction key (None: no redaction); `mapper`: where the
    partitions are checked (flows/scale/mapper.py: here, one at a time, or on a Dask cluster);
    `mark`: the work folder's (default: made in the store's folder).
    The summary's claims, notes and plans frames are empty: the accepted rows are in the
    store."""
    warn = npi_warnings(mapping)
    redacted = key is not None
    results: dict[str, ValidationResult] = {}
    parts: dict[str, pl.DataFrame | None] = {}
    described: dict[str, dict[str, Any]] = {}
    paths: dict[tuple[str, str], Path] = {}
    for export, raw in whole.items():
        raw = redact_raw(raw, key) if key is not None else raw
        results[export], parts[export] = _check(raw, warn, redacted)
        described[export] = export_summary(raw, results[export])
        paths |= {(export, f.name): f.path for f in raw.files}
    remits = results["remits"].accepted if "remits" in results else None
    gathered = {e: _Gathered() for e in cut}
    for export in cut:
        (store.folder / export).mkdir(parents=True, exist_ok=True)
    if mark is None:
        mark = WorkMark.create(store.folder)
    slim = store.slim()
    jobs = [PartitionCheck(cut, k, slim, warn, key, remits, mark) for k in range(store.partitions)]
    for checked in mapper(check_partition, jobs):
        for export, answer in checked.exports.items():
            gathered[export].add(answer)
        store.edges.append(checked.edges)
        store.lines.append(checked.lines)
        paths |= checked.paths
    for export, c in cut.items():
        results[export] = gathered[export].result(export)
        parts[export] = gathered[export].quarantined()
        meta = redact_raw(c.whole(), key) if key is not None else c.whole()
        described[export] = export_summary(meta, results[export])
        if MINUTES_DERIVED in described[export]:
            described[export][MINUTES_DERIVED] = gathered[export].minutes_derived
    return validated(results, stack_quarantine(parts), described, out_dir, mapping, paths)


def with_rows(validation: ValidationSummary, frames: dict[str, pl.DataFrame]) -> ValidationSummary:
    """`validation` with the accepted rows of the store put back (claims, notes, plans)."""
    results = {
        e: dataclasses.replace(r, accepted=frames[e]) if e in frames else r
        for e, r in validation.results.items()
    }
    return dataclasses.replace(
        validation,
        results=results,
        claims=frames.get("claims", validation.claims),
        notes=frames.get("notes", validation.notes),
        plans=frames.get("plans", validation.plans),
    )
