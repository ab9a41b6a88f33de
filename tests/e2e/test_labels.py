"""End to end: the audit finds every injected violation with the right rule, units,
severity and amount, and nothing else (precision and recall 1.0 against the generator's labels);
a clean generated practice has no finding; same inputs, same bytes."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from data import SAMPLE
from flows.cli.main import main
from flows.run.direct import AuditOutputs, run_audit
from flows.synth.generate import generate
from tests.support.paths import SAMPLE_ARGS, SAMPLE_INPUTS

KEY = ["claim_id", "line_number", "rule_id"]


def compare(findings: pl.DataFrame, labels: pl.DataFrame) -> None:
    labels = labels.with_columns(pl.col("claim_id").cast(pl.String))
    false_pos = findings.join(labels, on=KEY, how="anti")
    false_neg = labels.join(findings, on=KEY, how="anti")
    assert false_pos.is_empty(), f"not injected: {false_pos.select(KEY).head(10).to_dicts()}"
    assert false_neg.is_empty(), f"missed: {false_neg.select(KEY).head(10).to_dicts()}"
    both = findings.join(labels, on=KEY, suffix="_label")
    wrong = both.filter(
        pl.col("excess_units").ne_missing(pl.col("excess_units_label"))
        | (pl.col("severity") != pl.col("severity_label"))
        | ((pl.col("amount_at_risk") - pl.col("amount_at_risk_label")).abs() > 0.005)
    )
    assert wrong.is_empty(), wrong.select(
        *KEY, "excess_units", "excess_units_label", "severity", "severity_label",
        "amount_at_risk", "amount_at_risk_label",
    ).head(10).to_dicts()  # fmt: skip


def test_demo_sample_precision_and_recall(demo_run: AuditOutputs) -> None:
    out = demo_run
    labels = pl.read_csv(SAMPLE / "labels.csv", schema_overrides={"claim_id": pl.String})
    findings = pl.read_parquet(out.findings_parquet)
    compare(findings, labels)
    assert set(labels["rule_id"]) == set(out.summary["by_rule"]), "demo lacks a rule family"


@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_generated_practice_precision_and_recall(tmp_path: Path, seed: int) -> None:
    generate(20_000, seed, tmp_path / "in")
    g = tmp_path / "in"
    out = run_audit(
        g / "claims.parquet", g / "notes.parquet", g / "plans.parquet", tmp_path / "o",
        providers=g / "providers.parquet",
    )  # fmt: skip
    labels = pl.read_parquet(g / "labels.parquet")
    compare(out.result.findings, labels)
    # every rule runs and is injected: precision and recall 1.0 hold for each of them
    assert {r["status"] for r in out.summary["by_rule"].values()} == {"findings"}
    assert set(labels["rule_id"]) == set(out.summary["by_rule"])


def test_clean_practice_has_no_findings(tmp_path: Path) -> None:
    generate(8000, 4, tmp_path / "in", clean=True)
    g = tmp_path / "in"
    out = run_audit(
        g / "claims.parquet", g / "notes.parquet", g / "plans.parquet", tmp_path / "o",
        providers=g / "providers.parquet",
    )  # fmt: skip
    assert out.result.findings.is_empty(), out.result.findings.head().to_dicts()
    assert out.summary["amount_at_risk"] == 0
    # every rule ran (the providers export and the reference tables given) and passed
    assert {r["status"] for r in out.summary["by_rule"].values()} == {"passed"}
    # KX is on the clean Medicare lines past the threshold: KX-MISSING passes because of it
    claims = pl.read_parquet(g / "claims.parquet")
    assert claims["modifiers"].str.contains("KX").sum() > 0


def test_same_inputs_same_bytes(tmp_path: Path) -> None:
    """The findings files are byte-identical run after run; summary.json too, except its
    `history` section (run ids and the diff against the previous run change by design); the
    times of a run are in run.json, not here."""
    for name in ("a", "b"):
        run_audit(*SAMPLE_INPUTS, tmp_path / name)
    for file in ("findings.csv", "findings.parquet", "quarantine.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    a, b = (json.loads((tmp_path / n / "summary.json").read_text()) for n in ("a", "b"))
    assert a["history"]["run_id"] != b["history"]["run_id"]
    assert b["history"]["previous_run_id"] == a["history"]["run_id"]
    del a["history"], b["history"]
    assert a == b
    assert list(a) == list(b)  # same key order: the same bytes apart from the history section


def test_summary_matches_findings(demo_run: AuditOutputs) -> None:
    out = demo_run
    summary = json.loads(out.summary_json.read_text())
    findings = pl.read_csv(out.findings_csv, schema_overrides={"claim_id": pl.String})
    assert summary["findings"] == findings.height
    assert summary["lines_with_findings"] == findings.select(KEY[:2]).n_unique()
    per_line = findings.group_by(KEY[:2]).agg(pl.col("amount_at_risk").max())
    assert summary["amount_at_risk"] == pytest.approx(per_line["amount_at_risk"].sum(), abs=0.01)
    for rule_id, row in summary["by_rule"].items():
        assert row["findings"] == findings.filter(pl.col("rule_id") == rule_id).height


def test_run_cli_and_profile_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["run", *SAMPLE_ARGS]
    assert main([*args, "--out", str(tmp_path / "a"), "--profile", "commercial"]) == 0
    out = capsys.readouterr().out
    assert "findings" in out and "at risk" in out
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["lines_by_profile"] == {"commercial": summary["lines_audited"]}

    bad = tmp_path / "bad.toml"
    bad.write_text('[profile]\nname = "x"\n[rules."UNITS-8MIN"]\nmethd = "cms"\n')
    assert main([*args, "--out", str(tmp_path / "b"), "--profile", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "methd" in err[0] and "bad.toml" in err[0]
    assert "Traceback" not in err[0]
