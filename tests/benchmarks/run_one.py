"""One benchmark measurement in its own process, so its peak RSS is its own.

    python -m tests.benchmarks.run_one audit DATA_DIR OUT_DIR
    python -m tests.benchmarks.run_one rules DATA_DIR
    python -m tests.benchmarks.run_one duckdb DATA_DIR

Prints one JSON object on stdout.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any


def peak_rss_mb() -> float:
    """This process's peak RSS plus the largest child's (the Great Expectations worker, once it
    has exited): an upper bound on what the run held at once. ru_maxrss is in KiB on Linux."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def current_rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class StagePeaks:
    """The audit's progress listener (flows/run/progress.Progress) that also samples this
    process's RSS every 50 ms: the peak between one stage's end and the next is that stage's.
    The expectations run beside the rules: the rules stage's peak runs until their results
    are in."""

    def __init__(self) -> None:
        self.peaks: dict[str, float] = {}
        self._since = 0.0
        self._lock = threading.Lock()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            rss = current_rss_mb()
            with self._lock:
                self._since = max(self._since, rss)
            time.sleep(0.05)

    def stage(self, name: str, seconds: float, detail: str = "") -> None:
        # the wait for the expectations after the rules counts as the rules stage's
        key = "rules" if name == "expectations" else name
        with self._lock:
            peak = max(self._since, current_rss_mb(), self.peaks.get(key, 0.0))
            self.peaks[key], self._since = peak, 0.0

    def rule_done(self, done: int, total: int) -> None:
        return None


def audit(data: Path, out: Path, partitions: int = 0, dask: bool = False) -> dict[str, Any]:
    """One audit in the order of `therapy-audit run` (flows/cli/entry.py): the Great
    Expectations worker first, then the audit's imports, the options, the stages. `partitions`:
    a partitioned run (flows/run/partitioned.py) in that many patient partitions (0: one pass);
    `dask`: its partitions on a local Dask cluster started first (not counted in `total_s`)."""
    from flows.expectations.runner import start_worker

    start_worker()
    from flows.run.direct import run_direct
    from flows.run.partitioned import run_partitioned
    from flows.run.settings import settings

    cluster = None
    if dask:  # started before the clock: a cluster is there before the run, as a user's is
        from distributed import LocalCluster

        from flows.scale.cluster import local_cluster_kwargs

        cluster = LocalCluster(**local_cluster_kwargs(partitions))
    start = time.perf_counter()
    providers = data / "providers.parquet"
    s = settings(
        data / "claims.parquet",
        data / "notes.parquet",
        data / "plans.parquet",
        out,
        providers=providers if providers.exists() else None,
    )
    peaks = StagePeaks()
    with cluster if cluster is not None else contextlib.nullcontext():
        address = None if cluster is None else cluster.scheduler_address
        if partitions:
            outputs = run_partitioned(s, partitions, peaks, dask_address=address)
        else:
            outputs = run_direct(s, peaks)
        total = time.perf_counter() - start
    from flows.expectations import runner as ge_runner

    # ended as `therapy-audit run` ends it, and reaped: its peak RSS counts in RUSAGE_CHILDREN
    ge_runner.kill_worker()
    run_json = out / "run.json"
    timings = json.loads(run_json.read_text())["timings"] if run_json.exists() else {}
    return {
        "total_s": total,
        "timings": timings,
        "lines": outputs.summary["lines_audited"],
        "findings_sha256": hashlib.sha256(outputs.findings_csv.read_bytes()).hexdigest(),
        "findings": outputs.summary["findings"],
        "peak_rss_mb": peak_rss_mb(),
        "stage_peak_mb": peaks.peaks,
        "worker_peak_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "own_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def rules(data: Path) -> dict[str, Any]:
    """Our rules that the DuckDB peer covers, on frames already in memory (as DuckDB reads),
    with the providers export when the folder has one."""
    # the allocator settings of flows/__init__.py, as in an audit run: before polars loads
    importlib.import_module("flows")
    import polars as pl

    from checks.engine import run_rules
    from checks.registry import all_rules
    from flows.run.context import load_context
    from tests.benchmarks.duckdb_peer import peer_rules

    context = load_context(None)
    claims = pl.read_parquet(data / "claims.parquet").lazy()
    notes = pl.read_parquet(data / "notes.parquet").lazy()
    plans = pl.read_parquet(data / "plans.parquet").lazy()
    given = data / "providers.parquet"
    providers = pl.read_parquet(given).lazy() if given.exists() else None
    covered = peer_rules(data, context.profiles)
    subset = {k: v for k, v in all_rules().items() if k in covered}
    start = time.perf_counter()
    raw, _, _ = run_rules(claims, notes, plans, profiles=context.profiles,
                          mue=context.mue.lazy(), rules=subset, providers=providers,
                          reference=context.reference)  # fmt: skip
    elapsed = time.perf_counter() - start
    flagged = {
        rule_id: sorted({f"{c}|{n}" for c, n in group.select("claim_id", "line_number").rows()})
        for (rule_id,), group in raw.group_by("rule_id")
    }
    return {"rules_s": elapsed, "flagged": flagged, "rules": sorted(covered),
            "peak_rss_mb": peak_rss_mb()}  # fmt: skip


def duckdb(data: Path) -> dict[str, Any]:
    from flows.run.config import default_profiles
    from tests.benchmarks.duckdb_peer import run_peer

    elapsed, flagged = run_peer(data, default_profiles())
    return {
        "duckdb_s": elapsed,
        "flagged": {k: sorted(f"{c}|{n}" for c, n in v) for k, v in flagged.items()},
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str]) -> int:
    kind, data = argv[0], Path(argv[1])
    if kind == "audit":
        partitions = int(argv[3]) if len(argv) > 3 else 0
        result = audit(data, Path(argv[2]), partitions, dask=argv[4:5] == ["dask"])
    elif kind == "rules":
        result = rules(data)
    elif kind == "duckdb":
        result = duckdb(data)
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    if sys.argv[1] == "audit" and sys.argv[5:6] != ["dask"]:
        # an audit ends as the command ends one (flows/cli/entry.console): without the teardown
        os._exit(code)
    sys.exit(code)
