"""Scheduled audits' inputs as plain functions (flows/schedule/drop.py): the newest exports of a
drop folder, rolling windows for the audit period, and the period option."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from data import SAMPLE
from flows.inputs.formats import READERS
from flows.run.direct import run_audit
from flows.schedule.drop import (
    drop_scope,
    format_period,
    newest_exports,
    parse_period,
    plan_drop_run,
    window_period,
)
from schemas.errors import InputError
from tests.support.rows import THREE_EXPORTS as EXPORTS


def touch(path: Path, age_days: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x\n")
    moment = 1_780_000_000 - age_days * 86_400
    os.utime(path, (moment, moment))
    return path


def test_newest_export_per_kind_by_modification_time(tmp_path: Path) -> None:
    touch(tmp_path / "claims-2026-01.csv", 60)
    claims = touch(tmp_path / "Claims_2026-02.XLSX", 30)  # any case, any supported format
    touch(tmp_path / "claims-zz-old.parquet", 90)  # sorts last by name, but older
    touch(tmp_path / "~$claims-2026-03.xlsx", 1)  # Excel's lock file
    touch(tmp_path / ".claims-hidden.csv", 1)
    touch(tmp_path / "claims-notes.txt", 1)  # not an export format
    notes = touch(tmp_path / "notes" / "anything.parquet", 5)  # a subfolder wins over prefixes
    touch(tmp_path / "notes-2026-03.csv", 1)
    touch(tmp_path / "notes" / "older.csv", 50)
    plans_a = touch(tmp_path / "plans-a.csv", 10)
    plans_b = touch(tmp_path / "plans-b.csv", 10)  # same time: the later name, deterministically
    picked = newest_exports(tmp_path)
    assert picked == {"claims": claims, "notes": notes, "plans": plans_b}
    assert plans_a != plans_b


def test_the_drop_folder_takes_its_types_from_the_input_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("claims.csv", "notes.csv", "plans.xlsx"):
        touch(tmp_path / name, 10)
    touch(tmp_path / "plans-2026-03.tsv", 1)  # newer, but not an input type
    assert newest_exports(tmp_path)["plans"] == tmp_path / "plans.xlsx"
    monkeypatch.setitem(READERS, ".tsv", READERS[".csv"])
    assert newest_exports(tmp_path)["plans"] == tmp_path / "plans-2026-03.tsv"
    (tmp_path / "claims.csv").unlink()
    with pytest.raises(
        InputError, match=r"claims\*\.csv, \.parquet, \.xlsx, \.837, .* or \.tsv, or a 'claims'"
    ):
        newest_exports(tmp_path)


def test_an_empty_subfolder_falls_back_to_prefixed_files(tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    for name in ("claims.csv", "notes.csv", "plans.csv"):
        touch(tmp_path / name, 1)
    assert newest_exports(tmp_path)["plans"] == tmp_path / "plans.csv"


def test_a_missing_export_or_folder_is_one_clear_error(tmp_path: Path) -> None:
    touch(tmp_path / "notes.csv", 1)
    with pytest.raises(InputError, match=r"no claims export: expected a file named claims\*"):
        newest_exports(tmp_path)
    with pytest.raises(InputError, match="does not exist"):
        newest_exports(tmp_path / "nope")


def test_a_claims_only_drop_folder_audits_the_claims_alone(tmp_path: Path) -> None:
    """Notes and plans are optional: a folder of claims alone is a claims-only audit."""
    touch(tmp_path / "claims.csv", 1)
    assert newest_exports(tmp_path) == {"claims": tmp_path / "claims.csv"}
    touch(tmp_path / "notes.csv", 1)
    assert set(newest_exports(tmp_path)) == {"claims", "notes"}
    with pytest.raises(InputError, match="does not exist"):
        newest_exports(tmp_path / "nope")


@pytest.mark.parametrize(
    ("window", "today", "period"),
    [
        ("last-month", date(2026, 3, 1), (date(2026, 2, 1), date(2026, 2, 28))),
        ("last-month", date(2026, 1, 15), (date(2025, 12, 1), date(2025, 12, 31))),
        ("last-month", date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),
        ("last-quarter", date(2026, 4, 1), (date(2026, 1, 1), date(2026, 3, 31))),
        ("last-quarter", date(2026, 2, 10), (date(2025, 10, 1), date(2025, 12, 31))),
        ("last-week", date(2026, 3, 4), (date(2026, 2, 23), date(2026, 3, 1))),  # a Wednesday
        ("last-week", date(2026, 3, 2), (date(2026, 2, 23), date(2026, 3, 1))),  # a Monday
        ("last-7-days", date(2026, 3, 1), (date(2026, 2, 22), date(2026, 2, 28))),
        ("last-1-day", date(2026, 3, 1), (date(2026, 2, 28), date(2026, 2, 28))),
        ("month-to-date", date(2026, 3, 15), (date(2026, 3, 1), date(2026, 3, 14))),
        ("month-to-date", date(2026, 3, 1), (date(2026, 2, 1), date(2026, 2, 28))),
        ("none", date(2026, 3, 1), None),
    ],
)
def test_windows(window: str, today: date, period: tuple[date, date] | None) -> None:
    assert window_period(window, today) == period


@pytest.mark.parametrize("window", ["last-0-days", "last-N-days", "lastmonth", "", "last-days"])
def test_unknown_windows(window: str) -> None:
    with pytest.raises(InputError, match="unknown window"):
        window_period(window, date(2026, 3, 1))


def test_parse_period() -> None:
    assert parse_period("2026-01-01..2026-03-31") == (date(2026, 1, 1), date(2026, 3, 31))
    assert parse_period(["2026-01-01", "2026-01-01"]) == (date(2026, 1, 1), date(2026, 1, 1))
    assert parse_period(None) is None and parse_period("") is None
    for bad in ("2026-03-31..2026-01-01", "2026-01-01", "01/01/2026..2026-02-01"):
        with pytest.raises(InputError):
            parse_period(bad)


def test_plan_of_a_scheduled_run(tmp_path: Path) -> None:
    for name in ("claims.csv", "notes.csv", "plans.csv"):
        touch(tmp_path / "drop" / name, 1)
    run = plan_drop_run(tmp_path / "drop", tmp_path / "out", "last-month", date(2026, 3, 1),
                        "RUN-1")  # fmt: skip
    assert run.out_dir == tmp_path / "out" / "RUN-1"
    assert run.period == (date(2026, 2, 1), date(2026, 2, 28))
    # one series per drop folder and profile, whatever the files are called this month
    assert run.scope == drop_scope(tmp_path / "drop", None) != drop_scope(tmp_path / "drop", "x")
    given = (date(2026, 1, 1), date(2026, 1, 31))
    assert plan_drop_run(tmp_path / "drop", tmp_path / "out", "last-month", date(2026, 3, 1),
                         "RUN-2", period=given).period == given  # fmt: skip


@pytest.mark.parametrize(
    ("window", "audited"),
    [("last-month", "2026-02"), ("none", None)],
)
def test_the_window_limits_a_scheduled_audit_to_its_period(
    tmp_path: Path, window: str, audited: str | None
) -> None:
    """What a served run does, without Prefect: the window of a run scheduled on 2026-03-01 is
    February, and only February's claim lines are audited; `none` audits every line."""
    for export in EXPORTS:
        shutil.copy(SAMPLE / f"{export}.csv", tmp_path / f"{export}-2026-03.csv")
    run = plan_drop_run(tmp_path, tmp_path / "audits", window, date(2026, 3, 1), "RUN-1")
    out = run_audit(*(run.exports[e] for e in EXPORTS), run.out_dir, history=False,
                    expectations=False, period=format_period(run.period))  # fmt: skip
    dates = out.validation.claims["service_date"].dt.strftime("%Y-%m")
    if audited is None:
        assert "period" not in out.summary
        assert out.summary["lines_audited"] == out.validation.claims.height
        return
    s = out.summary
    assert (s["period"]["start"], s["period"]["end"]) == ("2026-02-01", "2026-02-28")
    assert s["lines_audited"] == (dates == audited).sum() > 0
    assert s["period"]["lines_outside_period"] == (dates != audited).sum() > 0
    assert set(out.result.findings["service_date"].dt.strftime("%Y-%m")) == {audited}


# ------------------------------------------------------------------ a hostile drop folder
def _drop(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    for name in ("claims-1.csv", "notes-1.csv", "plans-1.csv"):
        touch(drop / name, 10)
    return drop


def test_a_link_out_of_the_drop_folder_is_not_followed(tmp_path: Path) -> None:
    drop = _drop(tmp_path)
    outside = touch(tmp_path / "elsewhere" / "secret.csv", 1)
    (drop / "claims-zz-link.csv").symlink_to(outside)  # newer than claims-1.csv
    (drop / "notes").symlink_to(outside.parent, target_is_directory=True)
    inside = touch(drop / "archive" / "plans-2.csv", 1)
    (drop / "plans-link.csv").symlink_to(inside)  # a link within the folder is fine
    picked = newest_exports(drop)
    assert picked["claims"] == drop / "claims-1.csv"
    assert picked["notes"] == drop / "notes-1.csv"
    assert picked["plans"] == drop / "plans-link.csv"


def test_a_file_from_the_future_does_not_win_every_run(tmp_path: Path) -> None:
    drop = _drop(tmp_path)
    touch(drop / "claims-2099.csv", -3650)  # modified ten years from now
    touch(drop / "notes-skew.csv", -1 / 24 / 60)  # a minute ahead: a clock skew, taken
    picked = newest_exports(drop, now=1_780_000_000)
    assert picked["claims"] == drop / "claims-1.csv"
    assert picked["notes"] == drop / "notes-skew.csv"
    for name in ("claims-1.csv",):
        (drop / name).unlink()
    with pytest.raises(InputError, match="files dated in the future are not taken"):
        newest_exports(drop, now=1_780_000_000)


def test_a_file_that_vanishes_while_listed_is_skipped_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    drop = _drop(tmp_path)
    gone = touch(drop / "claims-2.csv", 1)
    real_stat = Path.stat

    def stat(self: Path, *args, **kwargs):
        if self == gone:
            self.unlink(missing_ok=True)  # the billing system moved it away just now
        return real_stat(self, *args, **kwargs)

    monkeypatch.setattr(Path, "stat", stat)
    assert newest_exports(drop)["claims"] == drop / "claims-1.csv"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert warnings == ["a claims file vanished from the drop folder while it was listed: skipped"]
