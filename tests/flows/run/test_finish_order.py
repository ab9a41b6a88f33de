"""The last stages of a run with the dataset expectations (flows/run/direct.py, finish): the
outputs that do not show the expectations' results are written while the expectations worker is
still busy, the others once its results are in, and summary.json keeps the order it has when the
results are at hand from the start."""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from flows.outputs.findings import findings
from flows.run import stages
from flows.run.direct import finish
from flows.run.progress import SILENT
from flows.run.rules import rules_isolated
from flows.run.settings import settings
from tests.support.paths import SAMPLE_INPUTS
from tests.support.rows import THREE_EXPORTS as EXPORTS

RESULTS: list[dict[str, Any]] = [
    {
        "name": "row_count",
        "export": "claims",
        "success": False,
        "observed": {"rows": 61},
        "expected": {"min_rows": 1000},
        "description": "Claim lines in the export: far fewer than a practice's quarter",
    }
]


def _wait_for(path: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} was never written"
        time.sleep(0.02)


@pytest.mark.parametrize("reused", [False, True])
def test_only_the_outputs_showing_the_expectations_wait_for_them(
    tmp_path: Path, reused: bool
) -> None:
    """While the expectations are pending, findings.csv, findings.parquet and findings.xlsx are
    written and the run waits; summary.json, report.html and run.json come once the results are
    in. In a folder holding an earlier run (`reused`), that run's files are gone before this run
    writes any: stopped while it waits (Ctrl-C), the folder never shows the new findings beside
    the earlier run's summary.json, report.html or run.json."""
    s = settings(*SAMPLE_INPUTS, tmp_path / "out", history=None, expectations=True)
    if reused:
        s.out_dir.mkdir()
        for name in ("summary.json", "report.html", "run.json", "findings.csv"):
            (s.out_dir / name).write_text("the earlier run's\n", encoding="utf-8")
    validation = stages.validate(
        {e: stages.ingest(e, getattr(s, e), s.mapping) for e in EXPORTS}, s
    )
    rules = rules_isolated(validation, s.context)
    expected: Future[tuple[list[dict[str, Any]], float]] = Future()
    timings: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=1) as pool:
        done = pool.submit(finish, s, validation, rules, expected, timings, SILENT, "direct")
        try:
            # written whole under its final name (flows/outputs/atomic.py): there means complete
            _wait_for(s.out_dir / "findings.xlsx")
            time.sleep(0.2)  # room for a wrong writer to go on
            assert not done.done()
            written = {p.name for p in s.out_dir.iterdir()}
            assert {"findings.csv", "findings.parquet", "findings.xlsx"} <= written
            assert not {"summary.json", "report.html", "run.json"} & written
            assert "the earlier run's" not in (s.out_dir / "findings.csv").read_text()
        finally:  # the run must end either way, or the pool would wait for it forever
            expected.set_result((RESULTS, 1.25))
        outputs = done.result(timeout=120)
    summary = json.loads((s.out_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["expectations"] == RESULTS
    assert outputs.summary["expectations"] == RESULTS
    at_hand = findings(validation, rules, RESULTS, s).summary
    assert list(summary) == list(at_hand)
    page = (s.out_dir / "report.html").read_text(encoding="utf-8")
    assert "far fewer than a practice" in page
    assert timings["expectations"] == 1.25 and outputs.timings["expectations"] == 1.25
    assert list(json.loads((s.out_dir / "run.json").read_text())["timings"]) == list(stages.STAGES)


def test_expectations_already_in_are_written_with_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large audit's expectations are in before its rules are done: then each stage writes all
    its outputs together (the page beside the workbook), as without expectations."""
    s = settings(*SAMPLE_INPUTS, tmp_path / "out", history=None, expectations=True)
    raws = {e: stages.ingest(e, getattr(s, e), s.mapping) for e in EXPORTS}
    validation = stages.validate(raws, s)
    rules = rules_isolated(validation, s.context)
    calls: list[tuple[str, bool | None]] = []
    write = stages.write

    def spy(stage: str, audited: Any, at_once: int = 2, expectations: bool | None = None) -> Any:
        calls.append((stage, expectations))
        return write(stage, audited, at_once, expectations)

    monkeypatch.setattr(stages, "write", spy)
    expected: Future[tuple[list[dict[str, Any]], float]] = Future()
    expected.set_result((RESULTS, 0.5))
    outputs = finish(s, validation, rules, expected, {}, SILENT, "direct")
    assert calls == [("findings", None), ("report", None)]
    assert outputs.summary["expectations"] == RESULTS
    summary = json.loads((s.out_dir / "summary.json").read_text(encoding="utf-8"))
    assert list(summary) == list(findings(validation, rules, RESULTS, s).summary)
