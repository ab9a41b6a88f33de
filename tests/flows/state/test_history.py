"""Run history (flows/state/history.py): new / persisting / resolved over consecutive runs, trend,
scope separation, re-recording, input fingerprints and the one-writer lock."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import polars as pl
import pytest

from flows.state import history
from flows.state.history import (
    HistoryError,
    compare_with_previous,
    default_history_path,
    default_scope,
    describe_inputs,
    record_run,
    trend,
)
from schemas.findings import FINDINGS_SCHEMA

T0 = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)


def findings(*ids: str, amount: float = 10.0) -> pl.DataFrame:
    """Findings-contract rows for ids like 'UNITS-8MIN:C1:1'."""
    rows = []
    for fid in ids:
        rule, claim, line = fid.split(":")
        rows.append(
            {
                "finding_id": fid, "rule_id": rule, "severity": "error", "claim_id": claim,
                "line_number": int(line), "patient_id": "P1", "provider_npi": "1000000004",
                "service_date": T0.date(), "procedure_code": "97110", "billed_units": 2,
                "supported_units": 1, "excess_units": 1, "amount_at_risk": amount,
                "message": "m", "evidence": "e",
            }
        )  # fmt: skip
    return pl.DataFrame(rows, schema=FINDINGS_SCHEMA)


A, B, C, D, E = (f"UNITS-8MIN:C{i}:1" for i in range(1, 6))


def record(db: Path, run_id: str, f: pl.DataFrame, *, at: datetime, scope: str = "s") -> None:
    summary = {
        "findings": f.height,
        "lines_with_findings": f.height,
        "amount_at_risk": 10.0 * f.height,
    }
    record_run(
        db, run_id=run_id, scope=scope, started_at=at, inputs={"claims": {"name": "c.csv"}},
        summary=summary, findings=f, finished_at=at + timedelta(seconds=5),
    )  # fmt: skip


def test_three_consecutive_runs_new_persisting_resolved(tmp_path: Path) -> None:
    db = tmp_path / "h" / "history.duckdb"
    runs = [("r1", findings(A, B, C)), ("r2", findings(B, C, D)), ("r3", findings(C, D, E))]
    diffs = []
    for day, (run_id, f) in enumerate(runs):
        before = compare_with_previous(db, "s", f, run_id)  # before recording ...
        record(db, run_id, f, at=T0 + timedelta(days=day))
        after = compare_with_previous(db, "s", f, run_id)  # ... and after: the same answer
        assert before.statuses.equals(after.statuses)
        assert before.previous_run_id == after.previous_run_id
        diffs.append(after)
    first, second, third = diffs
    assert first.previous_run_id is None and first.new == [A, B, C]
    assert first.counts == {"new": 3, "persisting": 0, "resolved": 0}
    assert second.previous_run_id == "r1"
    assert (second.new, second.persisting, second.resolved) == ([D], [B, C], [A])
    assert third.previous_run_id == "r2"
    assert third.previous_started_at == "2026-02-02T06:00:00+00:00"
    assert (third.new, third.persisting, third.resolved) == ([E], [C, D], [B])
    assert third.counts == {"new": 1, "persisting": 2, "resolved": 1}
    assert third.to_dict()["counts"] == third.counts
    # current findings in their own order, then the resolved one with its previous amount
    assert third.statuses["finding_id"].to_list() == [C, D, E, B]
    assert third.statuses.columns == [
        "finding_id",
        "status",
        "rule_id",
        "severity",
        "amount_at_risk",
    ]


def test_trend_oldest_first_and_limited(tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    for day, f in enumerate([findings(A), findings(A, B), findings(A, B, C)]):
        record(db, f"r{day + 1}", f, at=T0 + timedelta(days=day))
    points = trend(db, "s")
    assert [p["run_id"] for p in points] == ["r1", "r2", "r3"]
    assert points[-1] == {
        "run_id": "r3", "started_at": "2026-02-03T06:00:00+00:00", "findings": 3,
        "lines_with_findings": 3, "amount_at_risk": 30.0,
    }  # fmt: skip
    assert [p["run_id"] for p in trend(db, "s", limit=2)] == ["r2", "r3"]


def test_scopes_are_separate(tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    record(db, "north-1", findings(A, B), at=T0, scope="north")
    record(db, "south-1", findings(C), at=T0 + timedelta(hours=1), scope="south")
    diff = compare_with_previous(db, "north", findings(B, D), "north-2")
    assert diff.previous_run_id == "north-1"
    assert (diff.new, diff.persisting, diff.resolved) == ([D], [B], [A])
    assert [p["run_id"] for p in trend(db, "south")] == ["south-1"]
    assert compare_with_previous(db, "east", findings(A), "east-1").previous_run_id is None


def test_recording_a_run_again_replaces_it(tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    record(db, "r1", findings(A, B), at=T0)
    record(db, "r1", findings(A), at=T0)  # a retried task
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM runs").fetchall() == [(1,)]
        assert con.execute("SELECT finding_id FROM run_findings").fetchall() == [(A,)]
        kept = con.execute("SELECT scope, inputs->>'$.claims.name' FROM runs").fetchall()
    assert kept == [("s", "c.csv")]


def test_timestamps_are_stored_as_utc(tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    record(
        db, "r1", findings(A), at=datetime(2026, 2, 1, 1, 0, tzinfo=timezone(timedelta(hours=-5)))
    )
    assert trend(db, "s")[0]["started_at"] == "2026-02-01T06:00:00+00:00"


def test_no_database_yet_means_no_history_and_no_file(tmp_path: Path) -> None:
    db = tmp_path / "none" / "history.duckdb"
    assert trend(db, "s") == []
    diff = compare_with_previous(db, "s", findings(A), "r1")
    assert diff.previous_run_id is None and diff.new == [A]
    assert not db.exists()


def test_scope_and_default_path(tmp_path: Path) -> None:
    paths = (tmp_path / "c.csv", tmp_path / "n.csv", tmp_path / "p.csv")
    scope = default_scope(*paths, None)
    assert scope == default_scope(*(str(p) for p in paths), None)
    assert scope.startswith("auto-") and len(scope) == len("auto-") + 12
    assert scope != default_scope(*paths, "medicaid")
    assert default_history_path(tmp_path / "out") == tmp_path / ".therapy-audit" / "history.duckdb"


def test_describe_inputs_hashes_files_and_folders(tmp_path: Path) -> None:
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "2026-01.csv").write_text("a\n1\n", encoding="utf-8")
    (folder / "~$lock.xlsx").write_text("x", encoding="utf-8")  # an Office lock file: skipped
    (tmp_path / "notes.csv").write_text("b\n2\n", encoding="utf-8")
    (tmp_path / "plans.csv").write_text("c\n3\n", encoding="utf-8")
    inputs = describe_inputs(folder, tmp_path / "notes.csv", tmp_path / "plans.csv", {"claims": 1})
    assert inputs["claims"]["name"] == "claims" and inputs["claims"]["files"] == 1
    assert inputs["claims"]["rows"] == 1 and inputs["notes"]["rows"] is None
    before = inputs["claims"]["sha256"]
    (folder / "2026-02.csv").write_text("a\n2\n", encoding="utf-8")
    after = describe_inputs(folder, tmp_path / "notes.csv", tmp_path / "plans.csv")
    assert after["claims"]["sha256"] != before
    assert after["notes"]["sha256"] == inputs["notes"]["sha256"]


def test_a_second_writer_waits_then_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "history.duckdb"
    record(db, "r1", findings(A), at=T0)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('held', flush=True);"
         " sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(history, "LOCK_TIMEOUT_S", 0.3)
        with pytest.raises(HistoryError, match="in use by another run"):
            record(db, "r2", findings(B), at=T0 + timedelta(days=1))
    finally:
        holder.communicate("")
    record(db, "r2", findings(B), at=T0 + timedelta(days=1))  # the lock is gone: it works
    assert [p["run_id"] for p in trend(db, "s")] == ["r1", "r2"]


def test_not_a_duckdb_file_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "history.duckdb"
    db.write_text("not a database", encoding="utf-8")
    with pytest.raises(HistoryError, match="history database"):
        trend(db, "s")
