"""One benchmark measurement in its own process, so its peak RSS is its own.

    python -m tests.benchmarks.run_one audit DATA_DIR OUT_DIR
    python -m tests.benchmarks.run_one rules DATA_DIR
    python -m tests.benchmarks.run_one duckdb DATA_DIR

Prints one JSON object on stdout.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

CORE_RULES = ("UNITS-8MIN", "OVERLAP-TIMED", "POC-MISSING", "POC-EXPIRED", "TIME-MISSING")


def peak_rss_mb() -> float:
    """This process's peak RSS plus the largest child's (the Great Expectations worker, once it
    has exited): an upper bound on what the run held at once. ru_maxrss is in KiB on Linux."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return (own + children) / 1024


def audit(data: Path, out: Path) -> dict[str, Any]:
    from flows.run.direct import run_audit

    start = time.perf_counter()
    providers = data / "providers.parquet"
    outputs = run_audit(
        data / "claims.parquet",
        data / "notes.parquet",
        data / "plans.parquet",
        out,
        providers=providers if providers.exists() else None,
    )
    total = time.perf_counter() - start
    from flows.expectations import runner as ge_runner

    ge_runner.stop_worker()  # so that its peak RSS counts in RUSAGE_CHILDREN
    run_json = out / "run.json"
    timings = json.loads(run_json.read_text())["timings"] if run_json.exists() else {}
    return {
        "total_s": total,
        "timings": timings,
        "lines": outputs.summary["lines_audited"],
        "findings": outputs.summary["findings"],
        "peak_rss_mb": peak_rss_mb(),
    }


def rules(data: Path) -> dict[str, Any]:
    """Our four core rule families alone, on frames already in memory (as DuckDB reads)."""
    # the allocator settings of flows/__init__.py, as in an audit run: before polars loads
    importlib.import_module("flows")
    import polars as pl

    from checks.engine import run_rules
    from checks.registry import all_rules
    from flows.run.config import default_profiles, mue_table

    claims = pl.read_parquet(data / "claims.parquet").lazy()
    notes = pl.read_parquet(data / "notes.parquet").lazy()
    plans = pl.read_parquet(data / "plans.parquet").lazy()
    subset = {k: v for k, v in all_rules().items() if k in CORE_RULES}
    start = time.perf_counter()
    raw, _, _ = run_rules(claims, notes, plans, profiles=default_profiles(), mue=mue_table(),
                          rules=subset)  # fmt: skip
    elapsed = time.perf_counter() - start
    pairs = raw.join(
        claims.select("claim_id", "line_number", "payer_type").collect(),
        on=["claim_id", "line_number"],
    )
    # the baseline does UNITS-8MIN with the CMS method only: compare the CMS payers' lines
    cms = pl.col("payer_type").is_in(["medicare", "medicaid"]) | (pl.col("rule_id") != "UNITS-8MIN")
    flagged = {
        rule_id: sorted(f"{c}|{n}" for c, n in group.select("claim_id", "line_number").rows())
        for (rule_id,), group in pairs.filter(cms).group_by("rule_id")
    }
    return {"rules_s": elapsed, "flagged": flagged, "peak_rss_mb": peak_rss_mb()}


def duckdb(data: Path) -> dict[str, Any]:
    from flows.run.config import default_profiles
    from tests.benchmarks.duckdb_baseline import run_baseline

    codes = default_profiles()["medicare"].codes
    elapsed, flagged = run_baseline(data, codes, ("medicare", "medicaid"))
    return {
        "duckdb_s": elapsed,
        "flagged": {k: sorted(f"{c}|{n}" for c, n in v) for k, v in flagged.items()},
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str]) -> int:
    kind, data = argv[0], Path(argv[1])
    if kind == "audit":
        result = audit(data, Path(argv[2]))
    elif kind == "rules":
        result = rules(data)
    elif kind == "duckdb":
        result = duckdb(data)
    else:
        raise SystemExit(f"unknown measurement {kind!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
