"""The direct mode (no Prefect): history over consecutive CLI runs, a rule family
that raises, reviewer dispositions, run.json, the mode switch and what is imported when.

The Prefect flow's tests are in tests/flows/ (they share one Prefect test server)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from data import EXAMPLES, SAMPLE
from flows.cli.main import main
from flows.inputs.validate import ValidationSummary
from flows.run import rules as rules_stage
from flows.run.direct import run_audit
from flows.run.modes import prefect_api_url, use_prefect
from flows.run.stages import STAGES
from tests.support.paths import ROOT, SAMPLE_ARGS, SAMPLE_INPUTS

EXAMPLE = EXAMPLES / "reviewed-findings.csv"


@pytest.fixture(autouse=True)
def no_prefect_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Direct mode whatever the machine's Prefect configuration."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(tmp_path / "no-profiles.toml"))


def ids(path: Path) -> set[str]:
    return set(pl.read_csv(path, columns=["finding_id"])["finding_id"])


def cli_run(folder: Path, out: Path, *extra: str) -> dict:
    args = [f"--{e}={folder / (e + '.csv')}" for e in ("claims", "notes", "plans")]
    assert main(["run", *args, "--out", str(out), *extra]) == 0
    return json.loads((out / "summary.json").read_text())


def changed_claims(source: Path, findings: Path, target: Path) -> None:
    """Drop 15 flagged claims (their findings resolve) and bill 9 units on six clean 97110
    lines (new unit findings)."""
    claims = pl.read_csv(source, infer_schema=False)
    flagged = pl.read_csv(findings, infer_schema=False).select("claim_id").unique()
    kept = claims.join(flagged.sort("claim_id").head(15), on="claim_id", how="anti")
    clean = kept.join(flagged, on="claim_id", how="anti").filter(
        pl.col("procedure_code") == "97110"
    )
    bump = clean.head(6).select("claim_id", "line_number", pl.lit(True).alias("bump"))
    kept = kept.join(bump, on=["claim_id", "line_number"], how="left", maintain_order="left")
    units = pl.when(pl.col("bump")).then(pl.lit("9")).otherwise(pl.col("units"))
    kept.with_columns(units.alias("units")).drop("bump").write_csv(target)


def statuses(out: Path) -> dict[str, set[str]]:
    frame = pl.read_csv(out / "findings_status.csv", infer_schema=False)
    return {s: set(frame.filter(pl.col("status") == s)["finding_id"]) for s in
            ("new", "persisting", "resolved")}  # fmt: skip


def test_history_over_three_cli_runs(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for path in SAMPLE_INPUTS:
        shutil.copy(path, folder / path.name)
    runs = tmp_path / "audits"
    first = cli_run(folder, runs / "1")
    assert first["history"]["previous_run_id"] is None
    assert first["history"]["counts"] == {"new": first["findings"], "persisting": 0, "resolved": 0}
    assert len(first["expectations"]) == 10  # expectations on by default, in summary.json
    one = ids(runs / "1" / "findings.csv")

    # second run, same paths (so the same default scope), changed claims
    changed_claims(SAMPLE / "claims.csv", runs / "1" / "findings.csv", folder / "claims.csv")
    second = cli_run(folder, runs / "2", "--no-expectations")
    two = ids(runs / "2" / "findings.csv")
    assert two - one and one - two, "the change must both add and resolve findings"
    expected = {"new": two - one, "persisting": one & two, "resolved": one - two}
    assert second["history"]["previous_run_id"] == first["history"]["run_id"]
    assert second["history"]["scope"] == first["history"]["scope"]
    assert second["history"]["counts"] == {k: len(v) for k, v in expected.items()}
    assert statuses(runs / "2") == expected
    assert "expectations" not in second

    # third run: the original claims again; what the change raised is resolved again
    shutil.copy(SAMPLE / "claims.csv", folder / "claims.csv")
    third = cli_run(folder, runs / "3", "--no-expectations")
    expected = {"new": one - two, "persisting": one & two, "resolved": two - one}
    assert third["history"]["previous_run_id"] == second["history"]["run_id"]
    assert third["history"]["counts"] == {k: len(v) for k, v in expected.items()}
    assert statuses(runs / "3") == expected
    # same inputs as the first run: the same findings.csv, byte for byte
    assert (runs / "1" / "findings.csv").read_bytes() == (runs / "3" / "findings.csv").read_bytes()

    html = (runs / "3" / "report.html").read_text(encoding="utf-8")
    resolved = re.search(r'<table[^>]*id="resolved-table".*?</table>', html, flags=re.S)
    assert resolved is not None
    for finding_id in expected["resolved"]:
        rule, claim, line = finding_id.split(":")
        assert f"{claim} line {line}" in resolved.group(0) and rule in resolved.group(0)
    assert html.count('class="current"') == 1  # the trend table marks this run
    assert len(re.findall(r"<tr(?: class=\"current\")?><td class=\"mono\">2\d{7}-", html)) == 3
    # the history database is beside the output folders by default
    assert (runs / ".therapy-audit" / "history.duckdb").is_file()


def test_run_json_records_versions_inputs_and_stage_timings(tmp_path: Path) -> None:
    out = run_audit(*SAMPLE_INPUTS, tmp_path / "o", history=None, expectations=False)
    record = json.loads((tmp_path / "o" / "run.json").read_text())
    assert record["run_id"] == out.run_id and record["mode"] == "direct"
    assert record["prefect"] is None
    assert tuple(record["timings"]) == STAGES == tuple(out.timings)
    assert all(v >= 0 for v in record["timings"].values())
    assert record["timings"]["expectations"] == 0 and record["timings"]["rules"] > 0
    assert record["inputs"]["claims"]["name"] == "claims.csv"
    assert len(record["inputs"]["claims"]["sha256"]) == 64
    assert {"therapy-audit", "polars", "python"} <= set(record["versions"])
    assert record["options"]["history"] is None and record["options"]["expectations"] is False
    assert "run.json" in record["outputs"] and "findings.csv" in record["outputs"]
    # no history and no reviews: no status file, and summary.json has neither section
    assert not (tmp_path / "o" / "findings_status.csv").exists()
    assert "history" not in out.summary and "dispositions" not in out.summary


def test_a_failing_rule_family_does_not_sink_the_direct_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = run_audit(*SAMPLE_INPUTS, tmp_path / "good", history=None, expectations=False)
    real = rules_stage.run_matched

    def overlap_raises(*args: object, rules: dict, **kwargs: object) -> object:
        if any(r.family == "overlap" for r in rules.values()):
            raise RuntimeError("patient P0000000-08-00 broke it")  # a message quoting data
        return real(*args, rules=rules, **kwargs)

    monkeypatch.setattr(rules_stage, "run_matched", overlap_raises)
    out = run_audit(*SAMPLE_INPUTS, tmp_path / "bad", history=None, expectations=False)
    by_rule = out.summary["by_rule"]
    failed = {r for r, v in by_rule.items() if v["status"] == "failed to run"}
    assert failed == {r for r, v in by_rule.items() if v["family"] == "overlap"} != set()
    for rule_id in failed:
        assert by_rule[rule_id]["error"].startswith("RuntimeError (test_stages.py:")
    for rule_id in set(by_rule) - failed:
        assert by_rule[rule_id] == good.summary["by_rule"][rule_id]
    expected = good.result.findings.filter(~pl.col("rule_id").str.starts_with("OVERLAP-"))
    assert out.result.findings.equals(expected)
    text = "".join(p.read_text(errors="ignore") for p in (tmp_path / "bad").iterdir())
    assert "broke it" not in text  # the message never reaches an output
    assert "failed to run" in (tmp_path / "bad" / "report.html").read_text(encoding="utf-8")


def test_dispositions_are_marked_and_counted_not_hidden(tmp_path: Path) -> None:
    plain = run_audit(*SAMPLE_INPUTS, tmp_path / "plain", history=None, expectations=False)
    out = run_audit(*SAMPLE_INPUTS, tmp_path / "rev", history=None, expectations=False,
                    reviewed=EXAMPLE)  # fmt: skip
    # findings.csv keeps exactly the contract: reviewed findings are still in it, unchanged
    assert out.findings_csv.read_bytes() == plain.findings_csv.read_bytes()
    d = out.summary["dispositions"]
    assert d["file"] == "reviewed-findings.csv" and d["stale"] == 0
    assert {k: d[k]["findings"] for k in ("accepted-risk", "corrected", "false-positive")} == {
        "accepted-risk": 2, "corrected": 1, "false-positive": 2}  # fmt: skip
    assert d["reviewed"]["findings"] + d["unreviewed"]["findings"] == out.summary["findings"]
    assert out.summary["findings"] == plain.summary["findings"]  # counted apart, not removed

    status = pl.read_csv(out.status_csv, infer_schema=False)
    assert status.height == out.summary["findings"]
    reviewed = status.filter(pl.col("disposition").is_not_null())
    assert set(reviewed["disposition"]) == {"accepted-risk", "corrected", "false-positive"}
    assert reviewed.height == 5

    html = out.report_html.read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="findings-data">(.*?)</script>', html, re.S).group(1))
    col = {c: i for i, c in enumerate(data["columns"])}
    marked = [r for r in data["rows"] if r[col["disposition"]]]
    assert len(marked) == 5 and len(data["rows"]) == out.summary["findings"]
    assert 'id="reviews"' in html and 'data-reviews="reviewed">5<' in html


def test_bad_options_fail_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "reviewed.csv"
    bad.write_text("finding_id,disposition,reviewer,date\nX,maybe,me,2026-01-01\n")
    args = ["run", *SAMPLE_ARGS]
    for extra in (["--reviewed", str(bad)], ["--period", "2026-03-01..2026-01-01"],
                  ["--period", "March"], ["--scope", " "]):  # fmt: skip
        assert main([*args, "--out", str(tmp_path / "o"), *extra]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("therapy-audit: error:"), err
    assert not (tmp_path / "o").exists()


def test_mode_follows_the_prefect_api_setting(tmp_path: Path) -> None:
    assert prefect_api_url({"PREFECT_API_URL": "http://127.0.0.1:4200/api"}) == (
        "http://127.0.0.1:4200/api"
    )
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        'active = "local"\n[profiles.local]\nPREFECT_API_URL = "http://h:4200/api"\n'
        "[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = true\n"
    )
    env = {"PREFECT_PROFILES_PATH": str(profiles)}
    assert prefect_api_url(env) == "http://h:4200/api"
    assert prefect_api_url({**env, "PREFECT_PROFILE": "ephemeral"}) is None
    assert prefect_api_url({"PREFECT_HOME": str(tmp_path / "nothing")}) is None
    assert use_prefect(True, {"PREFECT_HOME": str(tmp_path / "nothing")})
    assert not use_prefect(False, {"PREFECT_HOME": str(tmp_path / "nothing")})


IMPORTS = """
import io, sys, contextlib
from flows.cli.main import main

def loaded():
    return sorted(m for m in ("prefect", "great_expectations") if m in sys.modules)

with contextlib.redirect_stdout(io.StringIO()):
    assert main(["--help"]) == 0
    assert main(["run", "--help"]) == 0
print("help", loaded())
inputs = [f"--{e}=data/sample/{e}.csv" for e in ("claims", "notes", "plans")]
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["validate", *inputs, "--out", sys.argv[1] + "/v"]) == 0
print("validate", loaded())
with contextlib.redirect_stdout(io.StringIO()):
    assert main(["run", *inputs, "--out", sys.argv[1] + "/r", "--no-expectations"]) == 0
print("run-no-expectations", loaded())
import flows.run.direct, flows.run.stages, flows.outputs.findings, flows.outputs.report
print("direct-modules", loaded())
"""


def test_direct_mode_never_imports_prefect(tmp_path: Path) -> None:
    """--help, validate and a direct run without expectations import neither Prefect nor Great
    Expectations, and no module of the direct mode imports them when it is imported (GE is
    imported at run time, in a thread, only when the expectations run)."""
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_PROFILES_PATH"] = str(tmp_path / "none.toml")
    done = subprocess.run([sys.executable, "-c", IMPORTS, str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == [
        "help []",
        "validate []",
        "run-no-expectations []",
        "direct-modules []",
    ]


def test_accepted_notes_leave_validation_without_their_text(
    validated_sample: ValidationSummary,
) -> None:
    """Memory at ten million lines: the stages after validation never see note text
    or the source file and row of accepted rows; every accepted note row is still there, the
    rows are still counted per file, and the quarantine still quotes bad rows in full."""
    out = validated_sample
    assert "note_text" not in out.notes.columns
    assert out.notes.height == out.results["notes"].rows_accepted
    for frame in (out.claims, out.notes, out.plans):  # nor the accepted rows' source columns
        assert not {"_source_file", "_source_row"} & set(frame.columns)
    files = out.summary["exports"]["claims"]["files"]  # counted per file all the same
    assert sum(f["rows_accepted"] for f in files) == out.claims.height > 0
    assert "note_text" in pl.read_csv(SAMPLE / "notes.csv", n_rows=1).columns


def test_flows_configures_jemalloc_before_polars_loads() -> None:
    script = "import flows, os; print(os.environ['_RJEM_MALLOC_CONF'])"
    env = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          check=True, cwd=ROOT)  # fmt: skip
    assert "dirty_decay_ms" in done.stdout
