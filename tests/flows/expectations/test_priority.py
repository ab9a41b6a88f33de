"""The expectations worker's priority follows the audit's size (flows/run/stages.py,
settle_ge_priority): normal for a small audit, which ends waiting for GE's import, and the lowest
from GE_YIELDS_FROM_LINES claim lines on, where the import would slow the rules down."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flows.expectations import runner as ge_runner
from flows.run import stages
from flows.run.direct import run_audit
from tests.support.paths import SAMPLE_INPUTS


@pytest.fixture
def lowered(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    calls: list[bool] = []
    monkeypatch.setattr(ge_runner, "lower_priority", lambda: calls.append(True))
    return calls


@pytest.mark.parametrize(
    ("claim_lines", "lowers"),
    [(0, False), (100_000, False), (249_999, False), (250_000, True), (100_000_000, True)],
)
def test_the_worker_yields_from_the_threshold_on(
    lowered: list[bool], claim_lines: int, lowers: bool
) -> None:
    assert stages.GE_YIELDS_FROM_LINES == 250_000
    stages.settle_ge_priority(claim_lines)
    assert lowered == ([True] if lowers else [])


@pytest.mark.parametrize(("threshold", "lowers"), [(250_000, False), (1, True)])
def test_a_direct_run_settles_the_priority_by_its_claim_lines(
    lowered: list[bool],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    threshold: int,
    lowers: bool,
) -> None:
    monkeypatch.setattr(stages, "GE_YIELDS_FROM_LINES", threshold)
    try:
        run_audit(*SAMPLE_INPUTS, tmp_path / "o", history=None)
    finally:
        ge_runner.stop_worker()  # started by run_audit
    assert lowered == ([True] if lowers else [])


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no process priorities here")
def test_the_worker_starts_at_the_normal_priority_and_can_be_lowered() -> None:
    ge_runner.stop_worker()  # an earlier test's audit run may have started one
    ge_runner.start_worker()
    try:
        pid = ge_runner._worker.pid  # type: ignore[union-attr]
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert os.getpriority(os.PRIO_PROCESS, pid) == own
        ge_runner.lower_priority()
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19
        ge_runner.lower_priority()  # again: no change, no error
        assert os.getpriority(os.PRIO_PROCESS, pid) == 19
    finally:
        ge_runner.stop_worker()
    ge_runner.lower_priority()  # no worker: nothing to do
