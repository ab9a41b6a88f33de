"""The rules stage as partitions on a real Dask cluster ("beyond one machine"), under
the session's Prefect test server: the same findings.csv and summary.json as a direct run, with a
local cluster of worker processes started by the flow and with a running scheduler given by
address on the command line. The partitioning itself is tested in
tests/flows/scale/test_partitions.py."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import UUID

import polars as pl
import pytest
from distributed import LocalCluster
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from data import SAMPLE
from flows.cli.main import main
from flows.run.direct import AuditOutputs, run_audit
from flows.run.prefect_flow import audit_flow
from tests.support.paths import SAMPLE_ARGS
from tests.support.sample import cross_provider

QUICK = {"history": False, "expectations": False, "report": False}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The sample with some notes of two pairs of providers written by the other one of the
    pair: a provider partition must keep such providers together (flows/scale/partitions.py)."""
    folder = tmp_path_factory.mktemp("cross-provider")
    notes = pl.read_csv(SAMPLE / "notes.csv", infer_schema=False)
    cross_provider(notes).write_csv(folder / "notes.csv")
    return [SAMPLE / "claims.csv", folder / "notes.csv", SAMPLE / "plans.csv"]


@pytest.fixture(scope="module")
def direct(inputs: list[Path], tmp_path_factory: pytest.TempPathFactory) -> AuditOutputs:
    out = run_audit(*inputs, tmp_path_factory.mktemp("direct") / "o", **QUICK)
    by_rule = out.summary["by_rule"]
    # the provider-scope rules have findings, or equal outputs would prove little about them
    assert by_rule["OVERLAP-PROVIDER"]["findings"] and by_rule["OVERLAP-DAY-CAP"]["findings"]
    return out


def task_run_names(flow_run_id: str) -> dict[str, str]:
    flt = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=flt)
    return {r.name.rsplit("-", 1)[0]: r.state_name for r in runs}


def test_partitions_on_a_local_cluster_of_processes_give_the_direct_runs_findings(
    inputs: list[Path], direct: AuditOutputs, tmp_path: Path
) -> None:
    claims, notes, plans = (str(p) for p in inputs)
    out = tmp_path / "dask"
    audit_flow(
        out=str(out), claims=claims, notes=notes, plans=plans, **QUICK,
        partitions=2, dask_cluster={"n_workers": 2, "processes": True},
    )  # fmt: skip
    assert (out / "findings.csv").read_bytes() == direct.findings_csv.read_bytes()
    assert (out / "findings.parquet").read_bytes() == direct.findings_parquet.read_bytes()
    assert json.loads((out / "summary.json").read_text()) == direct.summary
    record = json.loads((out / "run.json").read_text())
    tasks = task_run_names(record["prefect"]["flow_run_id"])
    # one task per partition, run on the cluster and recorded under the flow run
    partitions = {k: v for k, v in tasks.items() if k.startswith("rules-")}
    assert partitions == {
        f"rules-{kind}-{i}": "Completed" for kind in ("patient", "provider") for i in (0, 1)
    }


def test_cli_partitions_on_a_running_scheduler_give_the_direct_runs_findings(
    inputs: list[Path], direct: AuditOutputs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # --partitions alone picks the flow
    args = [f"--{e}={p}" for e, p in zip(("claims", "notes", "plans"), inputs, strict=True)]
    out = tmp_path / "cli"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        code = main(
            ["run", *args, "--out", str(out), "--no-history", "--no-expectations",
             "--partitions", "3", "--dask-address", cluster.scheduler_address]
        )  # fmt: skip
    assert code == 0
    assert (out / "findings.csv").read_bytes() == direct.findings_csv.read_bytes()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["by_rule"] == direct.summary["by_rule"]
    assert json.loads((out / "run.json").read_text())["mode"] == "prefect"


def test_a_bad_partition_count_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["run", *SAMPLE_ARGS, "--out", str(tmp_path / "o"), "--partitions", "0"]) == 2
    assert capsys.readouterr().err.strip() == (
        "therapy-audit: error: --partitions must be at least 1"
    )
    assert not (tmp_path / "o").exists()


def test_a_partition_that_raises_or_is_lost_leaves_its_rules_failed_to_run() -> None:
    from flows.scale.cluster import _answer, partition_task
    from flows.scale.partitions import Partition

    # never run: the rule id is unknown, and the engine raises a KeyError quoting it
    claims = pl.read_csv(SAMPLE / "claims.csv", n_rows=5)
    unknown = ("NO-SUCH-RULE-P0000000",)
    part = Partition("patient", 0, claims, claims.clear(), claims.clear(), unknown)
    raised = partition_task.fn(part, {}, pl.DataFrame(), None)
    error = raised.runs["NO-SUCH-RULE-P0000000"].error or ""
    assert raised.runs["NO-SUCH-RULE-P0000000"].status == "failed to run"
    # the exception's type and place only: its message could quote a cell value
    assert error.startswith("partition patient-0: KeyError (") and "P0000000" not in error

    class Lost:
        def result(self, raise_on_failure: bool = True) -> None:
            raise ConnectionError("worker gone")

    lost = _answer(part, Lost())
    # the one failure description: type and place, never the message
    error = lost.runs["NO-SUCH-RULE-P0000000"].error or ""
    assert error.startswith("partition task patient-0 failed: ConnectionError (")
    assert "worker gone" not in error
