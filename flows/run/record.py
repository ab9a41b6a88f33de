"""run.json: what ran, when, on what, with which versions, and how long each stage took.

Written last into the output folder by both modes (direct and the Prefect flow). It changes on
every run (times, run id), which is why it is a file of its own: findings.csv stays
byte-identical for the same inputs. The benchmark (`make bench`) reads `timings`.

    {
      "run_id": "20260301-060000-a1b2c3",
      "mode": "direct" | "prefect",
      "prefect": {"flow_run_id": "...", "flow_run_name": "...", "api_url": "..."} | null,
      "started_at": ISO 8601 UTC, "finished_at": ..., "wall_seconds": 4.1,
      "versions": {"therapy-audit", "python", "polars", "pandera", "duckdb",
                   "great_expectations" (when expectations ran), "prefect" (flow mode)},
      "inputs": {"claims": {"name", "path" (absolute; not under --redact, whose name is
                            "<export>-<12 hex of sha256>"), "sha256", "files", "rows"},
                 "notes": ..., "plans": ...},
      "options": {"profile", "mapping", "redact", "scope", "history", "reviewed", "period",
                  "expectations", "report_limit"},
      "timings": {"read", "validate", "expectations", "rules", "findings", "report",
                  "history"},   # seconds, wall clock, per stage (STAGES)
      "outputs": ["findings.csv", ...]   # files in the output folder
    }

Timings are wall-clock seconds per stage. Expectations run beside the rules, so the stages can
add up to more than wall_seconds. A stage that did not run (no report, no expectations) is 0.
"""

from __future__ import annotations

import platform
import secrets
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from flows.outputs.atomic import PARTIAL, write_text
from flows.outputs.files import RUN_JSON

_PACKAGES = ("therapy-audit", "polars", "pandera", "duckdb")


def new_run_id(now: datetime | None = None) -> str:
    """`YYYYMMDD-HHMMSS-xxxxxx` (UTC): sorts by time, safe as a folder name, unique enough."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"


@contextmanager
def timer(timings: dict[str, float], stage: str) -> Iterator[None]:
    """Add the wall time of the block to `timings[stage]` (seconds)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = round(timings.get(stage, 0.0) + time.perf_counter() - start, 4)


def versions(*, expectations: bool, prefect: bool) -> dict[str, str]:
    """Installed versions from package metadata (reading metadata imports nothing)."""
    names = [*_PACKAGES]
    if expectations:
        names.append("great_expectations")
    if prefect:
        names.append("prefect")
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


def write_run_json(
    out_dir: Path,
    *,
    run_id: str,
    mode: str,
    started_at: datetime,
    inputs: Mapping[str, Any],
    options: Mapping[str, Any],
    timings: Mapping[str, float],
    stages: tuple[str, ...],
    prefect: Mapping[str, Any] | None = None,
    finished_at: datetime | None = None,
) -> Path:
    import json

    finished_at = finished_at or datetime.now(UTC)
    path = out_dir / RUN_JSON
    outputs = sorted(
        p.name
        for p in out_dir.iterdir()
        if p.is_file() and p.name != RUN_JSON and PARTIAL not in p.name
    )
    data = {
        "run_id": run_id,
        "mode": mode,
        "prefect": dict(prefect) if prefect else None,
        "started_at": started_at.astimezone(UTC).isoformat(),
        "finished_at": finished_at.astimezone(UTC).isoformat(),
        "wall_seconds": round((finished_at - started_at).total_seconds(), 3),
        "versions": versions(
            expectations=bool(options.get("expectations")), prefect=mode == "prefect"
        ),
        "inputs": dict(inputs),
        "options": dict(options),
        "timings": {stage: round(float(timings.get(stage, 0.0)), 4) for stage in stages},
        "outputs": [*outputs, RUN_JSON],
    }
    # last, and whole or not at all: its presence marks a complete run (flows/outputs/atomic.py)
    write_text(path, json.dumps(data, indent=2, default=str) + "\n")
    return path
