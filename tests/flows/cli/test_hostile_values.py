"""Out-of-range values through a whole `run`: quarantined with a reason, never a crash later
(a year-0 date used to fail in the report stage, 1e308 in the workbook writer)."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from flows.cli.main import main
from tests.support.rows import valid_row, write_csv_text


def _run(tmp_path: Path, claims: list, plans: list, *extra: str) -> tuple[int, Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    rows = {"claims": claims, "notes": [valid_row("notes")], "plans": plans}
    args = []
    for export, export_rows in rows.items():
        args += [f"--{export}", str(write_csv_text(folder / f"{export}.csv", export_rows))]
    out = tmp_path / "out"
    code = main(["run", *args, "--out", str(out), "--no-history", "--no-expectations", *extra])
    return code, out


def test_out_of_range_dates_and_amounts_are_quarantined_and_the_run_completes(
    tmp_path: Path,
) -> None:
    claims = [
        valid_row("claims"),
        valid_row("claims", claim_id="C2", service_date="0000-01-01"),
        valid_row("claims", claim_id="C3", paid_amount="1e308"),
        valid_row("claims", claim_id="C4", charge_amount="inf"),
    ]
    plans = [valid_row("plans"), valid_row("plans", plan_id="PL2", cert_end="0000-12-31")]
    code, out = _run(tmp_path, claims, plans)
    assert code == 0
    quarantine = pl.read_csv(out / "quarantine.csv")
    assert sorted(quarantine.select("export", "column").rows()) == [
        ("claims", "charge_amount"),
        ("claims", "paid_amount"),
        ("claims", "service_date"),
        ("plans", "cert_end"),
    ]
    summary = json.loads((out / "summary.json").read_text())
    assert "Infinity" not in (out / "summary.json").read_text()
    assert summary["inputs"]["claims"]["rows_quarantined"] == 3
    for name in ("report.html", "findings.xlsx", "run.json"):
        assert (out / name).stat().st_size > 0
