"""Dataset expectations (flows/expectations/stage.py): each expectation passes on plausible frames
and fails on a frame built to break it; thresholds come from data/expectations.toml; importing the
module never imports great_expectations (its ~9 s import is paid once, in this module only)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from flows.expectations import runner as ge_runner
from flows.expectations.config import ExpectationsConfigError, load_config
from flows.expectations.runner import preload_great_expectations
from flows.expectations.stage import run_expectations
from schemas.errors import InputError
from tests.support.paths import ROOT

JAN = date(2026, 1, 5)
ORDER = [
    ("claims", "row_count"),
    ("claims", "unknown_code_share"),
    ("claims", "timed_units_mean"),
    ("claims", "timed_units_share_above"),
    ("claims", "service_dates_in_period"),
    ("notes", "row_count"),
    ("notes", "without_times_share"),
    ("notes", "unknown_code_share"),
    ("notes", "service_dates_in_period"),
    ("plans", "row_count"),
]


@pytest.fixture(scope="module", autouse=True)
def _great_expectations() -> None:
    preload_great_expectations()


def claims(n: int = 100, code: str = "97110", units: int = 2, days: int = 20) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "claim_id": [f"C{i}" for i in range(n)],
            "line_number": [1] * n,
            "service_date": [JAN + timedelta(days=i % days) for i in range(n)],
            "procedure_code": [code] * n,
            "units": [units] * n,
        }
    )


def notes(n: int = 100, code: str = "97110", untimed: int = 0, days: int = 20) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "note_id": [f"N{i}" for i in range(n)],
            "service_date": [JAN + timedelta(days=i % days) for i in range(n)],
            "procedure_code": [code] * n,
            "start_time": [None if i < untimed else time(9, 0) for i in range(n)],
            "end_time": [None if i < untimed else time(9, 30) for i in range(n)],
        }
    )


PLANS = pl.DataFrame({"plan_id": ["PL1", "PL2"]})


def run(c: pl.DataFrame | None = None, n: pl.DataFrame | None = None, **kw: Any) -> dict:
    results = run_expectations(
        claims() if c is None else c, notes() if n is None else n, kw.pop("plans", PLANS), **kw
    )
    assert [(r["export"], r["name"]) for r in results] == ORDER
    json.dumps(results)  # JSON-able as returned, for summary.json
    return {(r["export"], r["name"]): r for r in results}


def failed(results: dict) -> set[tuple[str, str]]:
    return {key for key, r in results.items() if not r["success"]}


def test_plausible_frames_pass_every_expectation() -> None:
    results = run()
    assert failed(results) == set()
    assert results[("claims", "row_count")]["observed"] == {"rows": 100}
    assert results[("claims", "timed_units_mean")]["observed"]["by_code"] == [
        {"procedure_code": "97110", "lines": 100, "mean_units": 2.0, "lines_above": 0,
         "share_above": 0.0}
    ]  # fmt: skip
    period = results[("notes", "service_dates_in_period")]["expected"]
    assert period["period"] == ["2026-01-05", "2026-01-24"]
    assert period["period_source"].startswith("derived")


def test_results_are_deterministic() -> None:
    assert run_expectations(claims(), notes(), PLANS) == run_expectations(claims(), notes(), PLANS)


def test_row_counts_outside_the_range_fail(tmp_path: Path) -> None:
    results = run(plans=PLANS.clear())
    assert failed(results) == {("plans", "row_count")}
    cfg = tmp_path / "exp.toml"
    cfg.write_text("[row_counts.claims]\nmax = 50\n", encoding="utf-8")
    results = run(config_path=cfg)
    assert failed(results) == {("claims", "row_count")}
    assert results[("claims", "row_count")]["expected"] == {"min": 1, "max": 50}


def test_notes_without_times_above_the_share_fail() -> None:
    assert failed(run(n=notes(untimed=5))) == set()  # 5% is the shipped limit
    results = run(n=notes(untimed=6))
    assert failed(results) == {("notes", "without_times_share")}
    assert results[("notes", "without_times_share")]["observed"] == {
        "share": 0.06, "rows_without_times": 6, "rows": 100,
    }  # fmt: skip


def test_codes_outside_the_profiles_fail() -> None:
    one = pl.concat([claims(99), claims(1, code="99213")])
    assert failed(run(c=one)) == set()  # 1% is the shipped limit
    two = pl.concat([claims(98), claims(2, code="99213")])
    results = run(c=two, n=pl.concat([notes(90), notes(10, code="90791")]))
    assert failed(results) == {("claims", "unknown_code_share"), ("notes", "unknown_code_share")}
    seen = results[("notes", "unknown_code_share")]["observed"]
    assert seen == {"share": 0.1, "rows_unknown": 10, "codes": ["90791"], "rows": 100}
    # a custom profile's codes can be declared known
    assert failed(run(c=two, known_codes=["97110", "99213"])) == set()


def test_implausible_units_per_timed_code_fail() -> None:
    heavy = pl.concat([claims(100), claims(40, code="97140", units=7)])
    results = run(c=heavy)
    assert failed(results) == {
        ("claims", "timed_units_mean"),
        ("claims", "timed_units_share_above"),
    }
    mean = results[("claims", "timed_units_mean")]["observed"]
    assert mean["failing"] == [{"procedure_code": "97140", "lines": 40, "mean_units": 7.0}]
    above = results[("claims", "timed_units_share_above")]["observed"]
    assert above["failing"] == [
        {"procedure_code": "97140", "lines": 40, "lines_above": 40, "share_above": 1.0}
    ]
    assert above["codes_checked"] == 2


def test_codes_with_few_lines_are_counted_not_judged() -> None:
    few = pl.concat([claims(100), claims(29, code="97140", units=9)])  # min_lines is 30
    results = run(c=few)
    assert failed(results) == set()
    assert results[("claims", "timed_units_mean")]["observed"]["codes_below_min_lines"] == 1


def test_service_dates_outside_the_period_fail() -> None:
    results = run(period=(date(2026, 1, 1), date(2026, 1, 31)))
    assert failed(results) == set()
    results = run(period=(date(2026, 1, 10), date(2026, 1, 31)))
    assert failed(results) == {
        ("claims", "service_dates_in_period"), ("notes", "service_dates_in_period"),
    }  # fmt: skip
    seen = results[("claims", "service_dates_in_period")]["observed"]
    assert seen["rows_outside"] == 25 and seen["min"] == "2026-01-05"
    assert results[("claims", "service_dates_in_period")]["expected"]["period_source"] == "given"
    # without a period, claims define it: notes beyond the last claim date fail
    late = pl.concat([notes(100), notes(1, days=1).with_columns(service_date=date(2026, 3, 1))])
    assert failed(run(n=late)) == {("notes", "service_dates_in_period")}


def test_empty_exports_fail_only_their_row_counts() -> None:
    results = run(c=claims(0), n=notes(0), plans=PLANS.clear())
    assert failed(results) == {
        ("claims", "row_count"),
        ("notes", "row_count"),
        ("plans", "row_count"),
    }
    assert results[("claims", "service_dates_in_period")]["expected"]["period"] is None


def test_run_writes_no_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[timed_units]\nmax_mena = 4\n", "unknown key 'timed_units.max_mena'"),
        ("[row_counts.invoices]\nmin = 1\n", "unknown key 'row_counts.invoices'"),
        ("[unknown_codes]\nmax_share = 5\n", "'unknown_codes.max_share'"),
        ("[timed_units]\nmin_lines = 2.5\n", "'timed_units.min_lines'"),
        ("[timed_units]\nmin_mean = 5.0\n", "'timed_units.min_mean' is above"),
        ("[timed_units\n", "is not valid TOML"),
    ],
)
def test_bad_config_is_one_line_naming_key_and_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExpectationsConfigError) as err:
        load_config(path)
    assert isinstance(err.value, InputError)
    assert message in str(err.value) and "mine.toml" in str(err.value)
    assert "\n" not in str(err.value)


def test_shipped_config_overlaid_key_by_key(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[notes_without_times]\nmax_share = 0.2\n", encoding="utf-8")
    cfg = load_config(path)
    assert cfg["notes_without_times.max_share"] == 0.2
    assert cfg["timed_units.max_mean"] == load_config()["timed_units.max_mean"]


def test_importing_the_module_does_not_import_great_expectations() -> None:
    code = (
        "import sys, flows.expectations.stage, flows.state.history, flows.state.dispositions\n"
        "assert 'great_expectations' not in sys.modules, 'imported eagerly'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_worker_process_gives_the_same_results_and_survives_its_death() -> None:
    """Audit runs evaluate GE in a worker process (flows/expectations/runner.py): same outcomes as
    in this
    process, including failing codes; a killed worker is replaced by in-process evaluation."""
    ge_runner.stop_worker()  # an earlier test's audit run may have started one
    frames = (pl.concat([claims(100), claims(40, code="97140", units=7)]), notes(), PLANS)
    here = run_expectations(*frames)
    ge_runner.start_worker()
    try:
        assert ge_runner.worker_started()
        assert run_expectations(*frames) == here
        assert not here[2]["success"] and here[2]["observed"]["failing"]  # 7 units per line
        ge_runner._worker.kill()  # type: ignore[union-attr]
        ge_runner._worker.wait()  # type: ignore[union-attr]
        assert run_expectations(*frames) == here
        assert not ge_runner.worker_started()
    finally:
        ge_runner.stop_worker()


def test_worker_ignores_a_flows_folder_where_the_audit_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Prefect project usually has a `flows/` folder of its own: the worker started from there
    imports this package's modules, not that folder's (a failed worker would leave the
    expectations to this process, holding its GIL for GE's import)."""
    theirs = tmp_path / "flows" / "expectations"
    theirs.mkdir(parents=True)
    for folder in (tmp_path / "flows", theirs):
        (folder / "__init__.py").write_text("", encoding="utf-8")
    (theirs / "runner.py").write_text("raise SystemExit(3)\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    ge_runner.stop_worker()
    frames = (claims(50), notes(), PLANS)
    ge_runner.start_worker()
    try:
        worker = ge_runner._worker
        assert worker is not None
        results = run_expectations(*frames)
        assert ge_runner._worker is worker and worker.poll() is None  # it answered
        assert [(r["export"], r["name"]) for r in results] == ORDER
    finally:
        ge_runner.stop_worker()
