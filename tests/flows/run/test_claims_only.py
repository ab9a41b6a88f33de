"""Claims-only audits: `run` and `validate` without --notes and --plans (or with one of them),
end to end in the direct mode: exit 0, the claims rules run and find what they find with the
evidence, the notes and plan rules "not applicable" with the reason in summary.json and the
report, whose scope says which evidence was available. The partitioned (Dask) rules stage and
the Prefect flow are held to the same in tests/flows/scale and tests/flows/prefect."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from checks.registry import all_rules
from data import MAPPINGS
from flows.cli.main import main
from flows.inputs.validate import validate_inputs
from flows.run.direct import AuditOutputs, run_audit
from tests.support.paths import SAMPLE_INPUTS

CLAIMS, NOTES, PLANS = SAMPLE_INPUTS
NOTES_RULES = {r for r, rule in all_rules().items() if "notes" in rule.needs}
PLANS_RULES = {r for r, rule in all_rules().items() if "plans" in rule.needs}
# rules that read the claims alone (and reference tables): the same answer with or without
# the evidence. OVERLAP-DAY-CAP reads notes' start times when there are any to order a day's
# lines, so which lines pass the cap may differ; it runs in both.
CLAIMS_RULES = {"UNITS-MUE", "UNITS-UNTIMED", "ADDON-NO-PRIMARY", "KX-MISSING"}


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> AuditOutputs:
    out = tmp_path_factory.mktemp("full")
    return run_audit(*SAMPLE_INPUTS, out, history=False, expectations=False)


@pytest.fixture(scope="module")
def claims_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("claims-only") / "out"
    args = ["run", "--claims", str(CLAIMS), "--out", str(out), "--no-history"]
    assert main(args) == 0
    return out


def test_the_rules_that_need_notes_or_plans_are_not_applicable(claims_only: Path) -> None:
    summary = json.loads((claims_only / "summary.json").read_text())
    by_rule = summary["by_rule"]
    assert NOTES_RULES and PLANS_RULES
    for rule_id in NOTES_RULES:
        assert (by_rule[rule_id]["status"], by_rule[rule_id]["reason"]) == (
            "not applicable",
            "no notes export given",
        ), rule_id
    for rule_id in PLANS_RULES:
        assert by_rule[rule_id]["reason"] == "no plans export given", rule_id
    # a rule that needs a column of the notes says the export is missing, not the column
    assert by_rule["DOC-NOTE-UNSIGNED"]["reason"] == "no notes export given"
    assert by_rule["PROGRESS-REPORT-LATE"]["reason"] == "no notes export given"
    assert summary["evidence"] == {
        "claims": True,
        "notes": False,
        "plans": False,
        "providers": False,
    }
    assert set(summary["inputs"]) == {"claims"}
    assert summary["lines_audited"] == pl.read_csv(CLAIMS, infer_schema=False).height


def test_the_claims_rules_find_what_they_find_with_the_evidence(
    claims_only: Path, full: AuditOutputs
) -> None:
    summary = json.loads((claims_only / "summary.json").read_text())
    for rule_id in CLAIMS_RULES | {"OVERLAP-DAY-CAP", "MOD-THERAPY-MISSING"}:
        assert summary["by_rule"][rule_id]["status"] in ("passed", "findings"), rule_id
    found = pl.read_csv(claims_only / "findings.csv", infer_schema=False)
    with_evidence = pl.read_csv(full.findings_csv, infer_schema=False)
    assert set(found["rule_id"]) >= {"UNITS-MUE", "KX-MISSING"}  # the comparison proves something
    # the same lines, units and money; only the evidence differs where it names matched notes
    mine = found.filter(pl.col("rule_id").is_in(list(CLAIMS_RULES))).drop("evidence")
    theirs = with_evidence.filter(pl.col("rule_id").is_in(list(CLAIMS_RULES))).drop("evidence")
    assert mine.equals(theirs)


def test_the_report_says_which_evidence_was_available(claims_only: Path) -> None:
    html = (claims_only / "report.html").read_text()
    assert (
        'data-fact="evidence">Evidence available: claim lines. Not given: session notes, ' in html
    )
    assert "This is a claims-only audit" in html
    assert "no notes export given" in html and "no plans export given" in html
    validation = json.loads((claims_only / "validation.json").read_text())
    assert set(validation["exports"]) == {"claims"}
    # the notes and plans expectations are left out, not failed
    exported = {
        e["export"] for e in json.loads((claims_only / "summary.json").read_text())["expectations"]
    }
    assert exported == {"claims"}


def test_claims_and_notes_without_plans(tmp_path: Path) -> None:
    out = run_audit(CLAIMS, NOTES, None, tmp_path / "out", history=False, expectations=False)
    by_rule = out.summary["by_rule"]
    assert {by_rule[r]["reason"] for r in PLANS_RULES} == {"no plans export given"}
    assert by_rule["DOC-NO-NOTE"]["status"] in ("passed", "findings")
    assert by_rule["UNITS-8MIN"]["status"] == "findings"
    assert out.summary["evidence"]["notes"] and not out.summary["evidence"]["plans"]


def test_validate_takes_the_claims_alone(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["validate", "--claims", str(CLAIMS), "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "claims:" in printed and "notes:" not in printed
    result = validate_inputs(CLAIMS, None, None, tmp_path / "v")
    assert set(result.results) == {"claims"} and result.absent == ("notes", "plans")
    assert result.notes.height == 0 and result.plans.height == 0


def test_run_without_claims_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["run", "--notes", str(NOTES), "--out", str(tmp_path)]) == 2
    assert "the following arguments are required: --claims" in capsys.readouterr().err


def test_a_synthea_export_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """A claims-only run of a Synthea-layout file with its ready-made mapping: the payment rows
    are counted as filtered everywhere the counts are shown, the NPI stand-ins as warnings."""
    rows = [
        "ID,CLAIMID,CHARGEID,PATIENTID,TYPE,AMOUNT,FROMDATE,PROCEDURECODE,MODIFIER1,MODIFIER2,"
        "UNITS,PROVIDERID",
        "t1,c1,1,p1,CHARGE,100.00,2021-03-02T09:30:00Z,97110,GP,,2,prov-1",
        "t2,c1,2,p1,PAYMENT,,2021-03-02T09:30:00Z,97110,,,1,prov-1",
        "t3,c1,3,p1,CHARGE,80.00,2021-03-02T09:30:00Z,97161,GP,,1,prov-1",
    ]
    claims = tmp_path / "claims_transactions.csv"
    claims.write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    mapping = MAPPINGS / "synthea-claims-transactions.toml"
    args = ["run", "--claims", str(claims), "--mapping", str(mapping), "--out", str(out),
            "--no-history", "--no-expectations"]  # fmt: skip
    assert main(args) == 0
    assert "3 read = 2 accepted + 0 quarantined + 1 filtered by the mapping" in (
        capsys.readouterr().out
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"]["claims"] == {
        "rows_read": 3,
        "rows_accepted": 2,
        "rows_quarantined": 0,
        "rows_filtered": 1,
    }
    validation = json.loads((out / "validation.json").read_text())
    assert validation["npi_check"] == "warn"
    assert validation["totals"]["warnings"] == 2
    html = (out / "report.html").read_text()
    assert 'data-fact="filtered">1 claims rows were filtered' in html
    assert html.count('data-field="warning"') == 1  # one reason, counted twice


def test_without_notes_no_provider_is_flagged_for_documented_minutes(claims_only: Path) -> None:
    """No notes export: documented minutes are unknown, not 0, so no provider is flagged for
    documenting too few minutes per timed unit."""
    html = (claims_only / "report.html").read_text()
    assert 'class="flag">under' not in html
    assert 'class="flagged"' not in html or 'class="flag">findings rate' in html


def test_notes_given_with_no_accepted_row_leave_their_rules_not_applicable(
    tmp_path: Path,
) -> None:
    """A notes export whose every row is quarantined is no evidence: the rules that need notes
    say so rather than flag every line as undocumented."""
    bad = pl.read_csv(NOTES, infer_schema=False).with_columns(pl.lit("not a date").alias(
        "service_date"))  # fmt: skip
    notes = tmp_path / "notes.csv"
    bad.write_csv(notes)
    out = tmp_path / "out"
    args = ["run", "--claims", str(CLAIMS), "--notes", str(notes), "--plans", str(PLANS),
            "--out", str(out), "--no-history"]  # fmt: skip
    assert main(args) == 0
    by_rule = json.loads((out / "summary.json").read_text())["by_rule"]
    for rule_id in NOTES_RULES:
        assert by_rule[rule_id]["status"] == "not applicable", rule_id
        assert by_rule[rule_id]["reason"] == "the notes export has no accepted rows", rule_id
    assert by_rule["POC-MISSING"]["status"] != "not applicable"


def test_an_audit_period_names_only_the_evidence_it_had(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["run", "--claims", str(CLAIMS), "--out", str(out), "--no-history",
            "--period", "2026-01-01..2026-01-31"]  # fmt: skip
    assert main(args) == 0
    html = (out / "report.html").read_text()
    assert "only claim lines dated within the period were audited; the claim lines outside" in (
        html.lower()
    )
    assert "plans of care and the claim lines outside it were read" not in html
