"""A line whose code no profile classifies, end to end: counted in summary.json, the console and
the report (not only in a dataset expectation), and still audited by the rules that do not depend
on a code's class."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from flows.cli.main import main
from tests.support.rows import valid_row, write_csv_text


def test_an_unknown_code_is_counted_and_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    claims = write_csv_text(
        tmp_path / "claims.csv",
        [
            valid_row("claims"),
            # an E/M visit no therapy profile classifies, billed without a note
            valid_row("claims", line_number="2", procedure_code="99213", modifiers=None),
        ],
    )
    notes = write_csv_text(tmp_path / "notes.csv", [valid_row("notes")])
    plans = write_csv_text(tmp_path / "plans.csv", [valid_row("plans")])
    out = tmp_path / "out"
    args = ["run", "--claims", str(claims), "--notes", str(notes), "--plans", str(plans),
            "--out", str(out), "--no-history"]  # fmt: skip
    assert main(args) == 0
    assert "1 line with codes no profile classifies (1 code)" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text())
    found = summary["unclassified_codes"]
    assert (found["lines"], found["codes"], found["top"]) == (1, 1, [{"code": "99213", "lines": 1}])
    # audited where it can be: no note documents it
    findings = pl.read_csv(out / "findings.csv", infer_schema=False)
    flagged = findings.filter(pl.col("line_number") == "2")["rule_id"].to_list()
    assert flagged == ["DOC-NO-NOTE"]
    html = (out / "report.html").read_text()
    assert "1 line with codes no profile classifies (1 code): 99213 (1 line)" in html
    # the expectation still says so too
    unknown = next(e for e in summary["expectations"] if e["name"] == "unknown_code_share"
                   and e["export"] == "claims")  # fmt: skip
    assert unknown["observed"]["rows_unknown"] == 1
