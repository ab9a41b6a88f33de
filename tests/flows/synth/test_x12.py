"""`generate --format x12`: a 10,000-claim 837P reads back to the very lines the generator
writes as CSV for the same seed, and its 835 pays them what the CSV says was paid; `run` audits
the 837P (with the 835) end to end, to the CSV run's findings and money."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from checks.remits import NO_REMIT, apply_remits
from flows.cli.main import main
from flows.inputs.read import read_export
from flows.run.direct import run_audit
from flows.synth.generate import generate
from schemas.normalize import normalize

# about 1.9 lines per claim: 18,200 lines make just over 10,000 claims
LINES = 18_200
SEED = 7
# what an 837P does not carry (the payer's amounts) and what only the X12 reader adds
NOT_IN_837 = ("paid_amount", "allowed_amount", "line_control", "line_note")


def _typed(export: str, path: Path) -> pl.DataFrame:
    raw = read_export(export, path)
    normalized = normalize(export, raw.frame)
    assert normalized.failures.is_empty()
    return normalized.typed.drop("_source_file", "_source_row")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("x12")
    generate(LINES, SEED, root / "csv", "csv")
    generate(LINES, SEED, root / "x12", "x12")
    return root / "csv", root / "x12"


def test_837p_reads_back_the_csv_lines(generated: tuple[Path, Path]) -> None:
    csv, x12 = generated
    key = ["claim_id", "line_number", "procedure_code", "service_date"]
    expected = _typed("claims", csv / "claims.csv").sort(key)
    read = _typed("claims", x12 / "claims.837").sort(key)
    assert read["claim_id"].n_unique() >= 10_000
    assert read.drop(NOT_IN_837).equals(expected.drop(NOT_IN_837))
    assert read["line_control"].null_count() == 0


def test_835_pays_what_the_csv_says(generated: tuple[Path, Path]) -> None:
    csv, x12 = generated
    key = ["claim_id", "line_number", "procedure_code", "service_date"]
    expected = _typed("claims", csv / "claims.csv").sort(key)
    claims = _typed("claims", x12 / "claims.837")
    remits = _typed("remits", x12 / "remits.835")
    paid = apply_remits(claims.lazy(), remits.lazy()).collect().sort(key)
    assert paid["paid_amount"].to_list() == pytest.approx(expected["paid_amount"].to_list())
    known = expected["allowed_amount"].is_not_null()
    assert paid.filter(known)["allowed_amount"].to_list() == pytest.approx(
        expected.filter(known)["allowed_amount"].to_list()
    )


def test_run_audits_an_837p_with_its_835(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(600, 3, data, "x12")
    out = tmp_path / "out"
    argv = ["run", "--claims", str(data / "claims.837"), "--remits", str(data / "remits.835")]
    argv += ["--notes", str(data / "notes.csv"), "--plans", str(data / "plans.csv")]
    argv += ["--out", str(out), "--no-history", "--no-expectations"]
    assert main(argv) == 0
    validation = json.loads((out / "validation.json").read_text())
    claims, remits = validation["exports"]["claims"], validation["exports"]["remits"]
    assert claims["files"][0]["format"] == "x12" and remits["files"][0]["format"] == "x12"
    assert claims["rows_read"] == claims["rows_accepted"] + claims["rows_quarantined"]
    findings = pl.read_csv(out / "findings.csv", infer_schema=False)
    assert findings.height > 0
    paid = findings["evidence"].str.contains("remittance: paid")
    # the generator's lines without a paid amount are not in its 835, and say so
    assert (paid | findings["evidence"].str.contains(NO_REMIT, literal=True)).all()
    assert paid.sum() > findings.height / 2


def test_run_refuses_a_folder_mixing_837p_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    generate(200, 3, data, "x12")
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "a.837").write_bytes((data / "claims.837").read_bytes())
    (folder / "b.csv").write_text("claim_id\nC1\n", encoding="utf-8")
    argv = ["run", "--claims", str(folder), "--notes", str(data / "notes.csv")]
    argv += ["--plans", str(data / "plans.csv"), "--out", str(tmp_path / "out"), "--no-history"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "mixes X12 files with CSV" in err


def test_the_837p_and_835_audit_as_the_csv_does(tmp_path: Path) -> None:
    # the same practice as CSV and as X12: the same findings and the same money at risk, the
    # 835's payments standing in for the CSV's paid and allowed amounts
    found = {}
    for fmt, claims in (("csv", "claims.csv"), ("x12", "claims.837")):
        data = tmp_path / fmt
        generate(800, 5, data, fmt)
        remits = data / "remits.835" if fmt == "x12" else None
        out = run_audit(
            data / claims, data / "notes.csv", data / "plans.csv", tmp_path / f"out-{fmt}",
            history=False, expectations=False, report=False, remits=remits,
            providers=data / "providers.csv",
        )  # fmt: skip
        found[fmt] = out.result.findings.select("finding_id", "amount_at_risk")
    assert found["x12"].height > 100
    assert found["x12"].sort("finding_id").equals(found["csv"].sort("finding_id"))
