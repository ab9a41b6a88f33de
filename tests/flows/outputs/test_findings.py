"""The findings stage (flows/outputs/findings.py): no findings file written when the findings
break the contract or the reviewer's file is rejected, though the files are written on threads
beside summary.json."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandera.errors
import polars as pl
import pytest

from checks.engine import RuleRun
from checks.merge import RulesOutput
from flows.inputs.validate import ValidationSummary
from flows.outputs.files import FINDINGS_CSV, FINDINGS_PARQUET, SUMMARY_JSON
from flows.outputs.findings import findings
from flows.run.context import load_context
from flows.run.direct import run_audit
from flows.run.settings import RunSettings
from schemas.errors import InputError
from tests.support.paths import SAMPLE_INPUTS
from tests.support.rulekit import CLAIM_SCHEMA, claim

OUTPUTS = (FINDINGS_CSV, FINDINGS_PARQUET, SUMMARY_JSON)


def test_a_bad_reviewed_file_leaves_no_findings_files(tmp_path: Path) -> None:
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text("finding_id,disposition,reviewer,date,reason\nX,waived,a,,\n")
    with pytest.raises(InputError):
        run_audit(
            *SAMPLE_INPUTS, tmp_path / "out", history=None, expectations=False, reviewed=reviewed
        )
    assert not any((tmp_path / "out" / name).exists() for name in OUTPUTS)


def test_findings_that_break_the_contract_leave_no_findings_files(tmp_path: Path) -> None:
    """A finding on a line the claims do not have has no patient, provider or date."""
    claims = pl.DataFrame([claim("C1")], schema=CLAIM_SCHEMA)
    raw = pl.DataFrame(
        {"claim_id": ["C1", "C404"], "line_number": [1, 1], "supported_units": [None, None],
         "excess_units": [None, None], "message": ["m", "m"], "evidence": ["e", "e"],
         "severity": ["error", "error"], "rule_id": ["DOC-NO-NOTE", "DOC-NO-NOTE"]},
        schema_overrides={"supported_units": pl.Int64, "excess_units": pl.Int64},
    )  # fmt: skip
    exports = {"rows_read": 1, "rows_accepted": 1, "rows_quarantined": 0}
    validation = ValidationSummary(
        claims, pl.DataFrame(), pl.DataFrame(), {}, tmp_path / "q.csv", tmp_path / "q.parquet",
        tmp_path / "v.json", {"exports": dict.fromkeys(("claims", "notes", "plans"), exports)},
    )  # fmt: skip
    settings = RunSettings(
        claims=Path("c"), notes=Path("n"), plans=Path("p"), out_dir=tmp_path / "out",
        run_id="r", started_at=dt.datetime(2026, 1, 1), scope="s", context=load_context(None),
    )  # fmt: skip
    rules = RulesOutput(raw, {"DOC-NO-NOTE": RuleRun("DOC-NO-NOTE", "findings", 2)})
    with pytest.raises(pandera.errors.SchemaError):
        findings(validation, rules, None, settings)
    assert not any((tmp_path / "out" / name).exists() for name in OUTPUTS)
