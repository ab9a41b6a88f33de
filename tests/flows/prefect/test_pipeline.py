"""The audit as a Prefect flow, end to end against the session's Prefect test server:
the same findings.csv as a direct run, artifacts on every run, a rule family whose task fails,
a scheduled drop-folder run, and the deployment `therapy-audit serve` builds (never served)."""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import datetime
from pathlib import Path
from uuid import UUID

import polars as pl
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from data import EXAMPLES, SAMPLE
from flows.cli.main import main
from flows.run import rules as rules_stage
from flows.run.direct import AuditOutputs, run_audit
from flows.run.prefect_flow import audit_flow, ingest_task, rules_task, validate_task
from flows.run.stages import STAGES
from flows.schedule import drop
from flows.schedule import serve as scheduling
from flows.synth.generate import generate
from reports.formatting import period_sentence
from tests.support.paths import SAMPLE_ARGS, SAMPLE_INPUTS, SAMPLE_PROVIDERS

EXAMPLE = EXAMPLES / "reviewed-findings.csv"
PATIENT_IDS = set(pl.read_csv(SAMPLE / "claims.csv", columns=["patient_id"])["patient_id"])


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory) -> AuditOutputs:
    out = tmp_path_factory.mktemp("direct")
    return run_audit(
        *SAMPLE_INPUTS, out / "o", history=out / "h.duckdb", reviewed=EXAMPLE,
        providers=SAMPLE_PROVIDERS,
    )  # fmt: skip


def artifacts(flow_run_id: str) -> list:
    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)]))
    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=flt)


def without_history(path: Path) -> dict:
    summary = json.loads(path.read_text())
    summary.pop("history")
    return summary


def test_orchestrated_run_writes_the_direct_runs_bytes(
    direct: AuditOutputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # --orchestrate alone picks the flow
    out = tmp_path / "flow"
    args = ["run", *SAMPLE_ARGS, "--out", str(out), "--orchestrate",
            "--history", str(tmp_path / "h.duckdb"), "--reviewed", str(EXAMPLE)]  # fmt: skip
    assert main(args) == 0
    for name in ("findings.csv", "findings.parquet", "quarantine.csv", "findings_status.csv"):
        assert (out / name).read_bytes() == (direct.out_dir / name).read_bytes(), name
    assert without_history(out / "summary.json") == without_history(direct.summary_json)

    record = json.loads((out / "run.json").read_text())
    assert record["mode"] == "prefect" and tuple(record["timings"]) == STAGES
    assert record["timings"]["rules"] > 0 and record["timings"]["expectations"] > 0
    assert "prefect" in record["versions"]

    found = artifacts(record["prefect"]["flow_run_id"])
    scope = record["options"]["scope"]
    keys = {f"audit-{k}-{scope}" for k in ("summary", "findings-by-rule", "report")}
    assert {a.key for a in found} == keys and len(found) == 3
    # a link artifact is stored as markdown holding the link
    link = next(a for a in found if a.key == f"audit-report-{scope}")
    assert (out / "report.html").resolve().as_uri() in str(link.data)
    table = next(a for a in found if a.type == "table")
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    summary = json.loads((out / "summary.json").read_text())
    assert {r["rule_id"]: r["findings"] for r in rows} == {
        k: v["findings"] for k, v in summary["by_rule"].items()
    }
    text = " ".join(str(a.data) + str(a.description) for a in found)
    assert f"{summary['findings']:,}" in text
    assert not [p for p in PATIENT_IDS if p in text], "an artifact carries a patient id"


def test_a_failing_rule_family_task_does_not_sink_the_flow(
    direct: AuditOutputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = rules_stage.run_matched

    def overlap_raises(*args: object, rules: dict, **kwargs: object) -> object:
        if any(r.family == "overlap" for r in rules.values()):
            raise RuntimeError("patient P0000000-08-00 broke it")
        return real(*args, rules=rules, **kwargs)

    monkeypatch.setattr(rules_stage, "run_matched", overlap_raises)
    claims, notes, plans = (str(p) for p in SAMPLE_INPUTS)
    out = audit_flow(out=str(tmp_path / "o"), claims=claims, notes=notes, plans=plans,
                     providers=str(SAMPLE_PROVIDERS), history=False,
                     expectations=False)  # fmt: skip
    by_rule = out.summary["by_rule"]
    failed = {r for r, v in by_rule.items() if v["status"] == "failed to run"}
    assert failed == {r for r, v in by_rule.items() if v["family"] == "overlap"} != set()
    for rule_id in failed:
        error = by_rule[rule_id]["error"]
        assert error.startswith("rule family task failed: run_families: RuntimeError")
        assert "broke it" not in error
    for rule_id in set(by_rule) - failed:
        assert by_rule[rule_id]["status"] == direct.summary["by_rule"][rule_id]["status"]
    expected = direct.result.findings.filter(~pl.col("rule_id").str.starts_with("OVERLAP-"))
    assert out.result.findings.equals(expected)
    assert (tmp_path / "o" / "report.html").is_file()
    # the scorecard's measures come from the units task, as the direct run's from its one pass
    assert direct.result.providers is not None and out.result.providers is not None
    assert out.result.providers.sort("provider_npi").equals(
        direct.result.providers.sort("provider_npi")
    )


def test_the_flow_audits_an_837p_with_its_835_as_the_direct_run_does(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(600, 3, data, "x12")
    paths = {e: str(data / f"{e}.csv") for e in ("notes", "plans")}
    paths |= {"claims": str(data / "claims.837"), "remits": str(data / "remits.835")}
    direct = run_audit(out_dir=tmp_path / "d", history=False, expectations=False, **paths)
    flow = audit_flow(out=str(tmp_path / "f"), history=False, expectations=False, **paths)
    findings = (tmp_path / "f" / "findings.csv").read_bytes()
    assert findings == (direct.out_dir / "findings.csv").read_bytes()
    assert b"remittance: paid" in findings
    record = json.loads((tmp_path / "f" / "run.json").read_text())
    assert record["inputs"]["remits"]["name"] == "remits.835"
    assert flow.validation.remits is not None


def test_a_claims_only_flow_run_writes_the_direct_runs_bytes(tmp_path: Path) -> None:
    """No notes and no plans: the flow's family tasks call the rules that need them not
    applicable, as the direct run does, and write the same findings and summary."""
    claims = SAMPLE_INPUTS[0]
    direct_out = run_audit(claims, None, None, tmp_path / "d", history=False, expectations=False)
    out = audit_flow(out=str(tmp_path / "f"), claims=str(claims), history=False,
                     expectations=False)  # fmt: skip
    assert out.findings_csv.read_bytes() == direct_out.findings_csv.read_bytes()
    assert out.summary["by_rule"] == direct_out.summary["by_rule"]
    assert out.summary["by_rule"]["DOC-NO-NOTE"]["reason"] == "no notes export given"
    assert out.summary["evidence"] == {**dict.fromkeys(("notes", "plans", "providers"), False),
                                       "claims": True}  # fmt: skip


def test_scheduled_run_audits_the_newest_exports_of_a_drop_folder(
    direct: AuditOutputs, tmp_path: Path
) -> None:
    folder = tmp_path / "drop"
    (folder / "notes").mkdir(parents=True)
    old = time.time() - 86_400
    newest = {"claims": folder / "claims-2026-03.csv", "notes": folder / "notes" / "march.csv",
              "plans": folder / "plans-2026-03.csv",
              "providers": folder / "providers-2026-03.csv"}  # fmt: skip
    for export, target in newest.items():
        older = target.with_name("older-" + target.name if export == "notes" else
                                 target.name.replace("-03", "-02"))  # fmt: skip
        older.write_text("an older export that must not be read\n")
        os.utime(older, (old, old))
        shutil.copy(SAMPLE / f"{export}.csv", target)
    out = audit_flow(out=str(tmp_path / "audits"), inputs=str(folder), window="last-month",
                     expectations=False)  # fmt: skip
    assert out.out_dir == tmp_path / "audits" / out.run_id
    record = json.loads((out.out_dir / "run.json").read_text())
    assert record["inputs"]["claims"]["name"] == "claims-2026-03.csv"
    assert record["inputs"]["notes"]["name"] == "march.csv"
    assert record["inputs"]["providers"]["name"] == "providers-2026-03.csv"
    assert out.validation.providers is not None
    today = datetime.now().astimezone().date()
    window = drop.window_period("last-month", today)
    assert window is not None
    start, end = window
    assert record["options"]["period"] == [start.isoformat(), end.isoformat()]
    # the window limits the audit: only last month's lines (none, once the sample's January to
    # April 2026 is past), never the whole file reported as last month's
    dates = pl.col("service_date").is_between(start, end)
    assert out.result.findings.equals(direct.result.findings.filter(dates))
    inside = direct.validation.claims.filter(dates).height
    s = out.summary
    assert s["lines_audited"] == inside
    outside = direct.validation.claims.height - inside
    assert s["period"] == {"start": start.isoformat(), "end": end.isoformat(),
                           "lines_audited": inside, "lines_outside_period": outside}  # fmt: skip
    found = artifacts(record["prefect"]["flow_run_id"])
    summary_md = next(a for a in found if a.key and a.key.startswith("audit-summary"))
    assert f"audit period {start} to {end}" in str(summary_md.data)
    assert period_sentence(s["period"]) in str(summary_md.data)
    assert record["options"]["scope"] == drop.drop_scope(folder, None)
    assert (tmp_path / "audits" / ".therapy-audit" / "history.duckdb").is_file()


def test_serve_builds_a_cron_deployment_without_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    served: list = []
    monkeypatch.setattr(scheduling, "serve_scheduled", served.append)
    (tmp_path / "drop").mkdir()
    args = ["serve", "--cron", "0 6 1 * *", "--inputs", str(tmp_path / "drop"),
            "--out", str(tmp_path / "audits"), "--timezone", "America/New_York",
            "--window", "last-quarter", "--no-expectations"]  # fmt: skip
    assert main(args) == 0
    (deployment,) = served
    assert deployment.name == "scheduled-audit"
    assert deployment.entrypoint == "flows.run.prefect_flow.audit_flow"  # a module path
    (schedule,) = deployment.schedules
    assert schedule.schedule.cron == "0 6 1 * *"
    assert schedule.schedule.timezone == "America/New_York"
    assert deployment.parameters == {
        "inputs": str((tmp_path / "drop").resolve()),
        "out": str((tmp_path / "audits").resolve()),
        "window": "last-quarter",
        "expectations": False,
    }
    assert "last-quarter" in capsys.readouterr().out
    for bad in (["--cron", "every day"], ["--window", "last-fortnight"]):
        argv = [*args]
        argv[argv.index(bad[0]) + 1] = bad[1]
        assert main(argv) == 2
        assert "therapy-audit: error:" in capsys.readouterr().err
    assert len(served) == 1


def test_retries_are_on_file_io_tasks_only() -> None:
    assert ingest_task.retries == 3 and ingest_task.retry_delay_seconds == [2, 4, 8]
    assert validate_task.retries == 0 and rules_task.retries == 0
