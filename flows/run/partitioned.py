"""The partitioned run: an audit too large for memory, cut once into patient partitions on disk
and read, validated and audited one partition at a time (flows/scale/cut.py, validate.py,
store_rules.py); the findings, report and history stages then run as in the direct mode
(flows/run/direct.finish), over the accepted rows read back from the store.

Same outputs as the direct mode: findings.csv, the quarantine, validation.json and summary.json
are the same bytes (tests/flows/scale/test_partitioned_run.py). What is whole in memory: one
partition of the rows read at a time, the findings, and for the last stages the accepted claim
lines and the notes' ids, providers, dates and text hashes. The work folder (the rows as read,
cut) is in the system's temporary folder unless `work_dir` says where, and is removed when the
run ends, failed or not.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import polars as pl

from checks.measures import TEXT_HASH
from flows.inputs.redact import redaction_key
from flows.inputs.validate import X12_ONLY, ValidationSummary
from flows.run import stages
from flows.run.direct import AuditOutputs, finish, timed_expectations
from flows.run.progress import SILENT, Progress
from flows.run.progress_counts import rules_counts, validate_counts
from flows.run.record import timer
from flows.run.settings import RunSettings
from flows.scale.cut import CUT_EXPORTS, DEFAULT_SLICE_ROWS, cut_export, remove
from flows.scale.store_rules import StoreFrames, store_rules
from flows.scale.validate import Store, validate_partitions, with_rows
from reports.formatting import fmt_int

# what the dataset expectations read of each export (checks/dataset_metrics.py)
EXPECTED_COLUMNS: dict[str, tuple[str, ...] | None] = {
    "claims": ("procedure_code", "service_date", "units"),
    "notes": ("procedure_code", "service_date", "start_time", "end_time"),
    "plans": ("patient_id",),
}
# what the findings, report and history stages read of each export (every claims column)
FINAL_COLUMNS: dict[str, tuple[str, ...] | None] = {
    "claims": None,
    "notes": ("note_id", "provider_npi", "service_date", TEXT_HASH),
    "plans": ("patient_id",),
}


def _collected(
    frames: StoreFrames, columns: Mapping[str, tuple[str, ...] | None] | None
) -> dict[str, Any]:
    """The store's claims, notes and plans in memory (only `columns` of each, when given)."""
    out = {}
    for export in CUT_EXPORTS:
        scan = frames.scan(export)
        names = scan.collect_schema().names()
        wanted = None if columns is None else columns[export]
        kept = names if wanted is None else [c for c in wanted if c in names]
        # a column at a time, each made one chunk as it is read: the whole frame read in the
        # store's chunks and then copied into one would hold both copies at once
        out[export] = pl.DataFrame([scan.select(c).collect().to_series().rechunk() for c in kept])
    claims = out["claims"]
    # as ValidationSummary.rechunked: an X12-only column no line fills is not kept
    blank = [c for c in X12_ONLY if c in claims.columns and claims[c].null_count() == claims.height]
    out["claims"] = claims.drop(blank)
    return out


def run_partitioned(
    s: RunSettings,
    partitions: int,
    progress: Progress = SILENT,
    work_dir: str | os.PathLike[str] | None = None,
    slice_rows: int = DEFAULT_SLICE_ROWS,
) -> AuditOutputs:
    """Every stage of one run over `partitions` patient partitions (at least 1); `slice_rows`:
    rows of a Parquet file read at a time."""
    if partitions < 1:
        raise ValueError("a partitioned run needs at least one partition")
    timings: dict[str, float] = {}
    expected: Future[tuple[list[dict[str, Any]], float]] | None = None
    work = Path(tempfile.mkdtemp(prefix="therapy-audit-work-", dir=work_dir))
    try:
        with timer(timings, "read"):
            paths = s.export_paths()
            cut = {
                e: cut_export(e, p, s.mapping, partitions, work / "read", slice_rows)
                for e, p in paths.items()
                if e in CUT_EXPORTS
            }
            whole = {
                e: stages.ingest(e, p, s.mapping) for e, p in paths.items() if e not in CUT_EXPORTS
            }
        files = sum(len(c.files) for c in cut.values()) + sum(len(r.files) for r in whole.values())
        progress.stage(
            "read",
            timings["read"],
            f"{fmt_int(files)} files in {fmt_int(partitions)} partitions",
        )
        with timer(timings, "validate"):
            store = Store(work / "accepted", partitions)
            key = redaction_key() if s.redact else None
            validation = validate_partitions(cut, whole, s.out_dir, store, s.mapping, key)
            del key, cut, whole
            remove(work / "read")
        progress.stage("validate", timings["validate"], validate_counts(validation.summary))
        frames = StoreFrames(store, {"notes": validation.notes, "plans": validation.plans})
        if s.expectations:
            # before the rules, not beside them: the few columns they read are freed before
            # the first partition is, and their second of work does not share its memory
            pruned = with_rows(validation, _collected(frames, EXPECTED_COLUMNS))
            expected = Future()
            expected.set_result(timed_expectations(pruned, s))
            del pruned
        with timer(timings, "rules"):
            rules = store_rules(
                frames,
                s.context,
                work / "providers",
                absent=validation.unavailable,
                period=s.period,
                providers=validation.providers,
            )
        progress.stage("rules", timings["rules"], rules_counts(rules.runs))
        # the report reads the notes for the cloned-notes measure only; packets read all
        kept = None if s.packets else FINAL_COLUMNS
        whole_rows: ValidationSummary = with_rows(validation, _collected(frames, kept))
        return finish(s, whole_rows, rules, expected, timings, progress, "partitioned")
    finally:
        remove(work)
