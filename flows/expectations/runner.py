"""Great Expectations' part of the dataset expectations, in this process or in a worker process.

flows/expectations/stage.py reduces each export to a few numbers with polars; this module hands
those small frames to GE and returns plain outcomes. Importing great_expectations takes seconds of
pure Python, which in a thread of the audit's own process would hold the GIL against the validation
and rules stages. `start_worker` therefore starts one worker process (`python -P -m
flows.expectations.runner`, which imports GE while the exports are read; `-P` keeps a `flows/`
folder where the command runs off its import path); `evaluate` runs there when
a worker was started, else in this process (tests, library use). Only metric frames (counts, shares,
one row per timed code) cross the pipe, never claim rows or patient data. A plain subprocess rather
than multiprocessing: a spawned multiprocessing child re-runs the caller's main script, which breaks
any script that calls run_audit without an `if __name__ == "__main__"` guard.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from flows.expectations.deferred import defer

_DATASOURCE = "therapy-audit"
# the worker's scheduling priority once the audit proves large (lower_priority): the lowest
_NICE = 19
# (kind, column, min, max): "max" = ExpectColumnMaxToBeBetween (one-row metrics frame),
# "each" = ExpectColumnValuesToBeBetween (one row per timed code)
Check = tuple[str, str, float | None, float | None]

_worker: subprocess.Popen[bytes] | None = None
_lock = threading.Lock()
# the folder holding the `flows` package, for the worker's import path
_ROOT = Path(__file__).resolve().parents[2]


def preload_great_expectations() -> None:
    """Import great_expectations now. Idempotent and thread-safe (Python's import lock makes a
    concurrent `evaluate` wait for this import instead of starting a second one)."""
    # analytics are off before GX reads its settings; the user's explicit choice is kept
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations  # noqa: F401

    # GX logs at INFO/WARNING about its own configuration; the console is for the run summary
    logging.getLogger("great_expectations").setLevel(logging.ERROR)


def start_worker() -> None:
    """Start the GE worker process (once per process); it begins with the import."""
    global _worker
    with _lock:
        if _worker is None:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(
                p for p in (str(_ROOT), os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
            _worker = subprocess.Popen(
                [sys.executable, "-P", "-m", "flows.expectations.runner"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                # GE's own chatter; a failure shows as the fallback below, not as console noise
                stderr=subprocess.DEVNULL,
                env=env,
            )
            # at the normal priority: a small audit is done before the worker's import, and
            # waits for it (lower_priority yields to a large one)
            atexit.register(kill_worker)


def lower_priority() -> None:
    """Run the worker at the lowest priority from now on. A large audit needs both cores for
    its validation and rules, and the worker has until the rules are done: its import (seconds
    of pure Python) should take only what the audit leaves idle. A small audit ends its rules
    before the import does and then waits for it, which the normal priority shortens. A
    platform without priorities keeps the normal one. Lowered for good: an unprivileged process
    cannot raise it again, which costs a long-lived process (a served flow) little, as the
    worker idles once GE is imported."""
    with _lock:
        worker = _worker
    if worker is not None:
        with contextlib.suppress(AttributeError, OSError):
            os.setpriority(os.PRIO_PROCESS, worker.pid, _NICE)


def kill_worker() -> None:
    """How a run ends the worker (at exit): killed rather than asked to end, as its graceful
    exit tears down GE's modules (a third of a second at the end of every run) and nothing of
    it is needed any more. Reaped, so its peak RSS is accounted as a child's."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is not None:
        with contextlib.suppress(Exception):
            worker.kill()
            # a killed process needs no teardown: reaped in milliseconds, and Python does not
            # warn of a child still running
            worker.wait(timeout=0.5)


def stop_worker() -> None:
    """Stop the worker and wait for it: its resources (and peak RSS) are then accounted."""
    global _worker
    with _lock:
        worker, _worker = _worker, None
    if worker is not None:
        with contextlib.suppress(Exception):
            worker.stdin.close()  # type: ignore[union-attr]  # EOF: the worker's loop ends
            worker.wait(timeout=5)
        if worker.poll() is None:
            worker.kill()
            with contextlib.suppress(Exception):
                worker.wait(timeout=5)  # reaped, so its resources (and peak RSS) are accounted


def worker_started() -> bool:
    return _worker is not None


def _context() -> Any:
    """An in-memory GX context: nothing written to disk, no analytics, no progress bars."""
    preload_great_expectations()
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return gx.get_context(mode="ephemeral", project_config=config)


def _validate(context: Any, name: str, columns: dict[str, list[Any]], checks: list[Check]) -> dict:
    """Validate one small frame with one expectation per check; plain outcomes by column."""
    import great_expectations as gx
    import pandas as pd

    kinds = {
        "max": gx.expectations.ExpectColumnMaxToBeBetween,
        "each": gx.expectations.ExpectColumnValuesToBeBetween,
    }
    frame = pd.DataFrame(columns)
    source = context.data_sources.add_or_update_pandas(_DATASOURCE)
    batch = (
        source.add_dataframe_asset(name)
        .add_batch_definition_whole_dataframe("whole")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    suite = gx.ExpectationSuite(name=name)
    for kind, column, lo, hi in checks:
        suite.add_expectation(kinds[kind](column=column, min_value=lo, max_value=hi))
    index = ["procedure_code"] if "procedure_code" in frame.columns else []
    result_format = {"result_format": "COMPLETE", "unexpected_index_column_names": index}
    outcome = batch.validate(suite, result_format=result_format)
    return {r.expectation_config.kwargs["column"]: _outcome(r) for r in outcome.results}


def _outcome(result: Any) -> dict[str, Any]:
    """success, error (GX's first message line: it concerns our metric frames, no patient
    data) and the procedure codes outside the bounds."""
    info = result.exception_info or {}
    if info.get("raised_exception"):
        lines = str(info.get("exception_message") or "").splitlines()
        error = lines[0] if lines else "great_expectations raised an error"
        return {"success": False, "error": error, "codes": []}
    unexpected = (result.result or {}).get("unexpected_index_list") or []
    codes = sorted({str(row["procedure_code"]) for row in unexpected})
    return {"success": bool(result.success), "error": None, "codes": codes}


def evaluate_here(frames: list[tuple[str, dict[str, list[Any]], list[Check]]]) -> dict[str, dict]:
    """Outcome per checked column over every (name, columns, checks) frame, in this process."""
    context = _context()
    results: dict[str, dict] = {}
    for name, columns, checks in frames:
        results |= _validate(context, name, columns, checks)
    return results


def evaluate(frames: list[tuple[str, dict[str, list[Any]], list[Check]]]) -> dict[str, dict]:
    """evaluate_here, in the worker process when one was started. A worker that died (killed,
    out of memory, failed to start) is replaced by this process doing the work."""
    global _worker
    with _lock:
        worker = _worker
        if worker is not None:
            try:
                pickle.dump(frames, worker.stdin)  # type: ignore[arg-type]
                worker.stdin.flush()  # type: ignore[union-attr]
                status, reply = pickle.load(worker.stdout)  # type: ignore[arg-type]
            except (OSError, EOFError, pickle.UnpicklingError):
                _worker = None
                worker.kill()
            else:
                if status == "ok":
                    return reply
                raise RuntimeError(f"great_expectations failed in its worker: {reply}")
    return evaluate_here(frames)


def import_for_worker() -> None:
    """Import GE as the worker needs it: without what only other expectations and data sources
    use."""
    # GE imports SQLAlchemy for its SQL data sources when it is installed (Prefect installs it):
    # an eighth of GE's import, for nothing here, where only in-memory frames are validated;
    # GE runs without it as where it is not installed
    sys.modules.setdefault("sqlalchemy", None)  # type: ignore[arg-type]
    # ... and scipy.stats and altair for an expectation never run here: stand-ins until used
    defer()
    preload_great_expectations()


def _serve() -> None:
    """The worker: import GE, then answer one pickled request per pickled reply until EOF."""
    import_for_worker()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            frames = pickle.load(stdin)
        except EOFError:
            return
        try:
            reply: tuple[str, Any] = ("ok", evaluate_here(frames))
        except Exception as exc:  # reported by the caller as a failed expectations run
            from checks.engine import describe_failure

            reply = ("error", describe_failure(exc))
        pickle.dump(reply, stdout)
        stdout.flush()


if __name__ == "__main__":
    _serve()
