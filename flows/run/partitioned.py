"""The partitioned run: an audit too large for memory, cut once into patient partitions on disk
and read, validated and audited one partition at a time (flows/scale/cut.py, validate.py,
store_rules.py), in a spawned worker process whose memory goes back to the system when it ends;
the expectations, findings, report and history stages then run in the run's own process as in
the direct mode (flows/run/direct.finish), reading the accepted rows as a scan of the store
(checks/rows.py): each query is reduced on polars' streaming engine as the files are read.

Same outputs as the direct mode: findings.csv, the quarantine, validation.json and summary.json
are the same bytes (tests/flows/scale/test_partitioned_run.py). What is whole in memory: in the
worker, one partition of the rows at a time; in the run's process, the findings and the plans'
patient ids (with --packets, every accepted row). The work folder (the rows as
read, cut; the accepted rows; each partition's findings) is in the system's temporary folder unless
`work_dir` says where, and is removed when the run ends, failed or not. With a Dask scheduler's
address, each partition's validation and rules are tasks on its workers, which must share the
work folder (flows/scale/mapper.py); the worker process only cuts and adds up.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import pickle
import queue
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, NamedTuple, cast

import polars as pl

from checks.engine import describe_failure
from checks.measures import TEXT_HASH
from checks.merge import RulesOutput
from flows.inputs.redact import redaction_key
from flows.inputs.validate import ValidationSummary, unused_dropped
from flows.outputs.audited import Rows
from flows.run import stages
from flows.run.direct import AuditOutputs, finish, timed_expectations
from flows.run.progress import SILENT, Progress
from flows.run.progress_counts import rules_counts, validate_counts
from flows.run.record import timer
from flows.run.settings import RunSettings
from flows.scale.cut import CUT_EXPORTS, DEFAULT_SLICE_ROWS, cut_export, remove
from flows.scale.mapper import PartitionMap, WorkMark, dask_map, local_map
from flows.scale.store_rules import StoreFrames, store_rules, write_findings
from flows.scale.validate import Store, validate_partitions, with_rows
from reports.formatting import fmt_int
from schemas.errors import InputError

FINDINGS = "findings"  # in the work folder: each partition's findings (read_findings)
SORTED = "findings.parquet"  # in the work folder: every finding, in order (write_findings)
# what the report may read of the notes: the cloned-notes measure's columns, when the rules did
# not reduce that measure already (flows/scale/cloned.py)
SCANNED_NOTES = ("note_id", "provider_npi", "service_date", TEXT_HASH)


def _collected(frames: StoreFrames) -> dict[str, Any]:
    """The store's claims, notes and plans in memory, every column (for --packets)."""
    out = {}
    for export in CUT_EXPORTS:
        scan = frames.scan(export)
        kept = scan.collect_schema().names()
        # a column at a time, each made one chunk as it is read: the whole frame read in the
        # store's chunks and then copied into one would hold both copies at once
        out[export] = pl.DataFrame([scan.select(c).collect().to_series().rechunk() for c in kept])
    # as ValidationSummary.rechunked: an X12-only column no line fills is not kept
    out["claims"] = unused_dropped("claims", out["claims"])
    return out


class _Forward:
    """The worker's progress, sent to the run's process as it happens."""

    def __init__(self, events: Any) -> None:
        self.events = events

    def stage(self, name: str, seconds: float, detail: str = "") -> None:
        self.events.put(("stage", (name, seconds, detail)))

    def rule_done(self, done: int, total: int) -> None:
        return None


class Staged(NamedTuple):
    """What the cut, validation and rules leave for the last stages: the rules output's
    `findings` is None, its rows are in `findings` (a file of the work folder, in order)."""

    validation: ValidationSummary
    rules: RulesOutput
    timings: dict[str, float]
    findings: Path


def _stored(s: RunSettings) -> tuple[str, ...]:
    """The exports of the run that the store holds."""
    return tuple(e for e in s.export_paths() if e in CUT_EXPORTS)


def partition_stages(
    s: RunSettings,
    partitions: int,
    work: Path,
    slice_rows: int,
    progress: Progress,
    dask_address: str | None = None,
) -> Staged:
    """Cut, validate and audit in partitions under `work`. With `dask_address`, each
    partition's validation and rules run on that Dask cluster, whose workers share `work`."""
    with contextlib.ExitStack() as stack:
        mapper = stack.enter_context(dask_map(dask_address)) if dask_address else local_map
        return _stages(s, partitions, work, slice_rows, progress, mapper)


def _stages(
    s: RunSettings,
    partitions: int,
    work: Path,
    slice_rows: int,
    progress: Progress,
    mapper: PartitionMap,
) -> Staged:
    timings: dict[str, float] = {}
    mark = WorkMark.create(work)
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
    cut_into = f"{fmt_int(files)} files cut into {fmt_int(partitions)} partitions"
    progress.stage("read", timings["read"], cut_into)
    with timer(timings, "validate"):
        store = Store(work / "accepted", partitions, _stored(s))
        key = redaction_key() if s.redact else None
        validation = validate_partitions(cut, whole, s.out_dir, store, s.mapping, key, mapper, mark)
        del key, cut, whole
        remove(work / "read")
    progress.stage("validate", timings["validate"], validate_counts(validation.summary))
    frames = StoreFrames(store, {"notes": validation.notes, "plans": validation.plans})
    with timer(timings, "rules"):
        rules, found = store_rules(
            frames,
            s.context,
            work / "providers",
            work / FINDINGS,
            absent=validation.unavailable,
            period=s.period,
            providers=validation.providers,
            mapper=mapper,
            mark=mark,
        )
        ordered = write_findings(found, rules, work / SORTED)
    progress.stage("rules", timings["rules"], rules_counts(rules.runs))
    return Staged(validation, rules, timings, ordered)


def _worker(
    s: RunSettings,
    partitions: int,
    work: Path,
    slice_rows: int,
    dask_address: str | None,
    events: Any,
) -> None:
    """The worker process: partition_stages, its answer or its exception sent back."""
    try:
        progress = _Forward(events)
        done = partition_stages(s, partitions, work, slice_rows, progress, dask_address)
        events.put(("done", done))
    except BaseException as exc:
        try:
            pickle.dumps(exc)
        except Exception:
            exc = RuntimeError(describe_failure(exc))
        events.put(("error", exc))


def _lost(code: int | None) -> Exception:
    """What a worker that ended without an answer means: killed by a signal (by the system short
    of memory, most often), one line and exit 2; an exit of its own, a process that could not
    start the worker (a caller's main module must be safe to import, as multiprocessing's spawn
    requires)."""
    if code is not None and code < 0:
        return InputError(
            f"the partition worker was stopped by signal {-code} before it finished: if the "
            "machine ran out of memory, run again with more --patient-partitions"
        )
    return RuntimeError(f"the partition worker ended without an answer (exit code {code})")


def in_worker(
    s: RunSettings,
    partitions: int,
    work: Path,
    slice_rows: int,
    progress: Progress,
    dask_address: str | None = None,
    target: Callable[..., None] = _worker,
) -> Staged:
    """partition_stages in a process of its own: the memory its partitions took goes back to
    the system when it ends, and the run's process starts the last stages without it. Its
    progress is shown as it happens; its exception is raised here."""
    context = multiprocessing.get_context("spawn")  # polars' threads do not survive a fork
    events = context.Queue()
    worker = context.Process(
        target=target,
        args=(s, partitions, work, slice_rows, dask_address, events),
        name="therapy-audit-partitions",
    )
    worker.start()
    try:
        while True:
            try:
                kind, payload = events.get(timeout=0.5)
            except queue.Empty:
                if not worker.is_alive():
                    raise _lost(worker.exitcode) from None
                continue
            if kind == "stage":
                progress.stage(*payload)
            elif kind == "error":
                raise payload
            else:
                return cast(Staged, payload)
    finally:
        worker.join(timeout=5)
        if worker.is_alive():
            worker.kill()
            worker.join()


def _finish(
    s: RunSettings,
    validation: ValidationSummary,
    rules: RulesOutput,
    timings: dict[str, float],
    progress: Progress,
    rows: Rows | None,
) -> AuditOutputs:
    """The last stages: the expectations, then the findings, report and history as in the
    direct mode."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="expectations") as pool:
        expected = pool.submit(timed_expectations, validation, s, rows) if s.expectations else None
        if expected is not None:
            # before the findings, not beside them as finish would: each scans the store, and
            # this run is short of memory rather than time
            wait([expected])
        if rows is not None:
            # what the report reads of the notes: the cloned-notes measure's columns
            named = rows.notes.collect_schema().names()
            notes = rows.notes.lazy().select(c for c in SCANNED_NOTES if c in named)
            rows = Rows(rows.claims, notes)
        return finish(s, validation, rules, expected, timings, progress, "partitioned", 1, rows)


def run_partitioned(
    s: RunSettings,
    partitions: int,
    progress: Progress = SILENT,
    work_dir: str | os.PathLike[str] | None = None,
    slice_rows: int = DEFAULT_SLICE_ROWS,
    *,
    worker: bool = True,
    dask_address: str | None = None,
) -> AuditOutputs:
    """Every stage of one run over `partitions` patient partitions (at least 1); `slice_rows`:
    rows of a Parquet file read at a time; `worker`: the cut, validation and rules in a process
    of their own (False: in this one); `dask_address`: each partition's validation and rules on
    that Dask scheduler's workers, which must reach `work_dir` (flows/scale/mapper.py)."""
    if partitions < 1:
        raise ValueError("a partitioned run needs at least one partition")
    if s.expectations:  # an input worth partitioning is a large one
        stages.settle_ge_priority(stages.GE_YIELDS_FROM_LINES)
    # absolute: a Dask worker resolves the paths it is sent from a folder of its own
    work = Path(tempfile.mkdtemp(prefix="therapy-audit-work-", dir=work_dir)).resolve()
    try:
        run = in_worker if worker else partition_stages
        staged = run(s, partitions, work, slice_rows, progress, dask_address)
        validation, rules, timings = staged.validation, staged.rules, staged.timings
        frames = StoreFrames(
            Store(work / "accepted", partitions, _stored(s)),
            {"notes": validation.notes, "plans": validation.plans},
        )
        rules = dataclasses.replace(rules, findings=pl.read_parquet(staged.findings))
        if s.packets:
            # a packet gathers a claim's every line, note and plan: the rows in memory
            whole = with_rows(validation, _collected(frames))
            return _finish(s, whole, rules, timings, progress, None)
        # the expectations, findings, report and history read the store as a scan, reduced on
        # the streaming engine as it is read: none of them holds every line
        notes = frames.scan("notes")
        planned = frames.scan("plans").select("patient_id").collect()
        return _finish(
            s,
            with_rows(validation, {"plans": planned}),
            rules,
            timings,
            progress,
            Rows(frames.scan("claims"), notes),
        )
    finally:
        remove(work)
