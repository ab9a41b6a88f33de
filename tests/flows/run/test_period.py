"""An audit with a period, end to end in the direct mode: only the claim lines of the period are
audited, the others are counted (read = audited + outside the period + quarantined), the
findings are the full audit's on those lines (plans, notes and earlier lines stay evidence), and
summary.json, report.html and the console say which period it was. A period that holds no
claim line audits nothing and says so."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from flows.cli.main import main
from flows.run.direct import AuditOutputs, run_audit
from tests.support.paths import SAMPLE_INPUTS, SAMPLE_PROVIDERS

FEBRUARY = "2026-02-01..2026-02-28"


@pytest.fixture(autouse=True)
def no_prefect_api(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Direct mode whatever the machine's Prefect configuration."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.setenv("PREFECT_PROFILES_PATH", str(tmp_path / "no-profiles.toml"))


@pytest.fixture(scope="module")
def february(tmp_path_factory: pytest.TempPathFactory) -> AuditOutputs:
    out = tmp_path_factory.mktemp("period") / "out"
    return run_audit(
        *SAMPLE_INPUTS,
        out,
        history=False,
        expectations=True,
        period=FEBRUARY,
        providers=SAMPLE_PROVIDERS,
    )


def in_february(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("service_date").dt.month() == 2)


def test_counts_add_up(february: AuditOutputs) -> None:
    s = february.summary
    claims = s["inputs"]["claims"]
    accepted = february.validation.claims
    assert (
        claims["rows_read"]
        == claims["rows_audited"] + claims["rows_outside_period"] + (claims["rows_quarantined"])
    )
    assert claims["rows_accepted"] == claims["rows_audited"] + claims["rows_outside_period"]
    assert s["lines_audited"] == claims["rows_audited"] == in_february(accepted).height > 0
    assert claims["rows_outside_period"] == accepted.height - s["lines_audited"] > 0
    assert s["period"] == {
        "start": "2026-02-01",
        "end": "2026-02-28",
        "lines_audited": s["lines_audited"],
        "lines_outside_period": claims["rows_outside_period"],
    }
    assert s["claims_audited"] == in_february(accepted)["claim_id"].n_unique()
    assert sum(s["lines_by_profile"].values()) == s["lines_audited"]
    # notes and plans are evidence of every date: nothing of theirs is outside
    for export in ("notes", "plans"):
        assert "rows_outside_period" not in s["inputs"][export]
    # validation.json is the contract's account, unchanged: read = accepted + quarantined
    validation = json.loads(february.validation.summary_path.read_text())["exports"]["claims"]
    assert validation["rows_read"] == validation["rows_accepted"] + validation["rows_quarantined"]


def test_findings_are_the_full_audits_on_the_lines_of_the_period(
    february: AuditOutputs, demo_run: AuditOutputs
) -> None:
    """Nothing outside the period is flagged, nothing inside it is lost: a plan certified (or a
    first treatment given) before February still counts for February's lines."""
    found = february.result.findings
    assert found.height > 0
    assert in_february(found).height == found.height
    assert found.equals(in_february(demo_run.result.findings))
    assert february.findings_csv.read_text().count("POC-UNSIGNED") > 0


def test_report_and_expectation_use_the_period(february: AuditOutputs) -> None:
    s = february.summary
    outside = s["period"]["lines_outside_period"]
    sentence = (
        f"Audit period 2026-02-01 to 2026-02-28; {outside:,} lines outside it were not audited"
    )
    assert february.report_html is not None
    html = february.report_html.read_text(encoding="utf-8")
    assert sentence in html
    assert "<h1>Audit period 2026-02-01 to 2026-02-28</h1>" in html
    dates = next(
        e for e in s["expectations"]
        if e["name"] == "service_dates_in_period" and e["export"] == "claims"
    )  # fmt: skip
    assert dates["expected"]["period"] == ["2026-02-01", "2026-02-28"]
    assert dates["observed"]["rows_outside"] == outside
    record = json.loads((february.out_dir / "run.json").read_text())
    assert record["options"]["period"] == ["2026-02-01", "2026-02-28"]


def test_cli_period_prints_the_period_and_the_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--no-history", "--no-expectations",
                 "--period", FEBRUARY]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    s = json.loads((out / "summary.json").read_text())
    c = s["inputs"]["claims"]
    outside = c["rows_outside_period"]
    assert f"Audit period 2026-02-01 to 2026-02-28; {outside:,} lines outside it" in printed
    assert (
        f"(accepted = {c['rows_audited']:,} audited + {outside:,} outside the audit period)"
        in printed
    )
    assert f"audited {s['lines_audited']} lines" in printed


def test_a_period_without_claim_lines_audits_nothing_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A November run of a January-April export: exit 0, 0 lines audited, every line outside."""
    out = tmp_path / "out"
    assert main(["demo", "--out", str(out), "--no-history", "--no-expectations",
                 "--period", "2026-11-01..2026-11-30"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    s = json.loads((out / "summary.json").read_text())
    c = s["inputs"]["claims"]
    assert s["lines_audited"] == s["claims_audited"] == s["findings"] == 0
    assert c["rows_outside_period"] == c["rows_accepted"] > 0
    assert {r["status"] for r in s["by_rule"].values()} == {"not applicable"}
    assert "no claim line is dated within it, so no line was audited" in printed
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "no claim line is dated within it" in html
    assert pl.read_csv(out / "findings.csv").height == 0
