"""The one list of output writers (flows/outputs/registry.py): which files a run writes, that
each is written whole or not at all, and that both runners go through it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from flows.outputs import registry
from flows.outputs.audited import Audited
from flows.outputs.findings import findings
from flows.outputs.registry import OUTPUTS, STAGES, Output, write_outputs
from flows.run import stages
from flows.run.direct import run_audit
from flows.run.rules import rules_isolated
from flows.run.settings import settings
from flows.run.stages import STAGES as RUN_STAGES
from tests.support.paths import SAMPLE_INPUTS
from tests.support.rows import THREE_EXPORTS as EXPORTS

CONTRACT = {"findings.csv", "findings.parquet", "summary.json"}
REPORT = {"report.html", "findings.xlsx"}


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Audited:
    """The demo's findings from the stage functions, nothing written yet; no history or review."""
    s = settings(
        *SAMPLE_INPUTS, tmp_path_factory.mktemp("registry"), history=None, expectations=False
    )
    raws = {e: stages.ingest(e, getattr(s, e), s.mapping) for e in EXPORTS}
    validation = stages.validate(raws, s)
    return findings(validation, rules_isolated(validation, s.context), None, s)


def _to(audited: Audited, out: Path, **changes: object) -> Audited:
    settings = dataclasses.replace(audited.settings, out_dir=out, **changes)
    return dataclasses.replace(audited, settings=settings)


def test_every_output_has_a_unique_file_and_a_timed_stage() -> None:
    files = [o.file for o in OUTPUTS]
    assert len(files) == len(set(files))
    assert set(STAGES) == {"findings", "report"} and set(STAGES) <= set(RUN_STAGES)


def test_stages_write_exactly_their_wanted_files(audited: Audited, tmp_path: Path) -> None:
    a = _to(audited, tmp_path)
    assert set(write_outputs("findings", a)) == CONTRACT  # no status file: no history, no review
    assert set(write_outputs("report", a)) == REPORT
    assert {p.name for p in tmp_path.iterdir()} == CONTRACT | REPORT  # no temporary file left
    b = _to(audited, tmp_path / "no-report", report=False)
    assert write_outputs("report", b) == {}
    with pytest.raises(ValueError, match="unknown output stage"):
        write_outputs("history", a)


def test_the_outputs_showing_the_expectations_are_written_apart(
    audited: Audited, tmp_path: Path
) -> None:
    """A run writes the others while the expectations worker is busy (flows/run/direct.py)."""
    a = _to(audited, tmp_path)
    shows = {"summary.json", "report.html"}
    assert {o.file for o in OUTPUTS if o.shows_expectations} == shows
    assert set(write_outputs("findings", a, expectations=False)) == CONTRACT - shows
    assert set(write_outputs("report", a, expectations=False)) == REPORT - shows
    assert {p.name for p in tmp_path.iterdir()} == (CONTRACT | REPORT) - shows
    assert set(write_outputs("findings", a, expectations=True)) == {"summary.json"}
    assert set(write_outputs("report", a, expectations=True)) == {"report.html"}
    assert {p.name for p in tmp_path.iterdir()} == CONTRACT | REPORT


def test_the_same_findings_give_the_same_bytes(audited: Audited, tmp_path: Path) -> None:
    one, two = _to(audited, tmp_path / "1"), _to(audited, tmp_path / "2")
    first, second = write_outputs("findings", one), write_outputs("findings", two)
    for name in CONTRACT:
        assert first[name].read_bytes() == second[name].read_bytes(), name


def test_a_writer_that_fails_leaves_no_file_behind(
    audited: Audited, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(a: Audited, path: Path) -> None:
        path.write_text("half a workbook")
        raise OSError("disk full")

    outputs = tuple(
        dataclasses.replace(o, write=broken) if o.file == "findings.xlsx" else o for o in OUTPUTS
    )
    monkeypatch.setattr(registry, "OUTPUTS", outputs)
    with pytest.raises(OSError, match="disk full"):
        write_outputs("report", _to(audited, tmp_path))
    assert not (tmp_path / "findings.xlsx").exists()
    assert not [p.name for p in tmp_path.iterdir() if "partial" in p.name]


def test_an_output_added_to_the_list_is_written_by_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lines(a: Audited, path: Path) -> None:
        path.write_text(f"{a.result.findings.height}\n")

    extra = Output("count.txt", "findings", lines)
    monkeypatch.setattr(registry, "OUTPUTS", (*OUTPUTS, extra))
    run = run_audit(*SAMPLE_INPUTS, tmp_path, history=None, expectations=False, report=False)
    assert (tmp_path / "count.txt").read_text() == f"{run.result.findings.height}\n"
