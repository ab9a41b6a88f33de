"""A damaged history file (a truncated copy, a clobbered header): one clear line, exit 2, the file
left byte for byte as it was; the run goes on without history only when asked (--no-history)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from flows.cli.main import main
from flows.state.damage import check_history, cut_short
from flows.state.history import HistoryError, compare_with_previous, trend
from tests.flows.state.test_history import T0, A, B, findings, record
from tests.support.paths import SAMPLE_INPUTS

ARGS = [*(f"--{p.stem}={p}" for p in SAMPLE_INPUTS), "--no-expectations"]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    db = tmp_path_factory.mktemp("history") / "h.duckdb"
    # enough finding rows that the file holds several blocks
    many = findings(*(f"UNITS-8MIN:C{i}:1" for i in range(20_000)))
    record(db, "r1", many, at=T0)
    return db.read_bytes()


def _damaged(tmp_path: Path, healthy: bytes, how: str) -> Path:
    db = tmp_path / "h.duckdb"
    cut = {"header": 100, "first-block": 4096, "half": len(healthy) // 2,
           "last-bytes": len(healthy) - 1000, "last-block": len(healthy) - 262144}  # fmt: skip
    if how == "clobbered":
        db.write_bytes(healthy[:8] + b"\0" * 8000 + healthy[8008:])
    else:
        db.write_bytes(healthy[: cut[how]])
    return db


HOW = ["header", "first-block", "half", "last-bytes", "last-block", "clobbered"]


@pytest.mark.parametrize("how", HOW)
def test_a_damaged_history_is_one_line_exit_2_and_left_untouched(
    tmp_path: Path, healthy: bytes, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _damaged(tmp_path, healthy, how)
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    code = main(["run", *ARGS, "--out", str(tmp_path / "out"), "--history", str(db)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"history database '{db}' is damaged" in err and "--no-history" in err
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not (tmp_path / "out").exists()  # stopped before any work


def test_the_run_goes_on_without_history_only_when_asked(
    tmp_path: Path, healthy: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    db = _damaged(tmp_path, healthy, "half")
    before = db.read_bytes()
    assert main(["run", *ARGS, "--out", str(tmp_path / "out"), "--no-history"]) == 0
    assert (tmp_path / "out" / "run.json").is_file() and db.read_bytes() == before


def test_every_history_reader_says_damaged_rather_than_a_duckdb_traceback(
    tmp_path: Path, healthy: bytes
) -> None:
    db = _damaged(tmp_path, healthy, "half")
    with pytest.raises(HistoryError, match="is damaged"):
        check_history(db)
    with pytest.raises(HistoryError, match="is damaged"):
        compare_with_previous(db, "s", findings(A, B), "r2")
    with pytest.raises(HistoryError, match="is damaged"):
        trend(db, "s")


def test_a_healthy_history_passes_the_check(tmp_path: Path, healthy: bytes) -> None:
    db = tmp_path / "h.duckdb"
    db.write_bytes(healthy)
    check_history(db)
    check_history(tmp_path / "absent.duckdb")


@pytest.mark.parametrize(
    ("in_file", "highest", "expected"),
    [
        # a DuckDB 2.0 history of 35 runs and 8 million findings, read whole by DuckDB: its
        # header counts 548 blocks, the file holds 547 (the last, freed, left out), 546 in use
        (547, 546, False),
        (547, 547, True),  # the last block in use is gone
        (100, 546, True),  # a copy cut in the middle
        (0, -1, False),  # nothing in use
    ],
)
def test_a_file_is_cut_short_only_when_a_block_in_use_is_missing(
    in_file: int, highest: int, expected: bool
) -> None:
    assert cut_short(in_file, highest) is expected
