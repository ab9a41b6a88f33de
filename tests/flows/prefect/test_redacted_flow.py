"""`run --orchestrate --redact`: Prefect keeps a flow run's parameters, name and logs, so none of
them may name an input file, whose name can carry a patient's id (a per-patient export). The
command line hands the flow its settings inside the process (flows/run/prepared.py); the flow
writes the same findings as the direct run."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from uuid import UUID

import polars as pl
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    LogFilter,
    LogFilterFlowRunId,
)

from data import SAMPLE
from flows.cli.main import main
from flows.inputs.redact import KEY_ENV
from flows.run.prefect_flow import audit_flow
from flows.run.prepared import prepare
from flows.run.settings import settings
from schemas.errors import InputError
from tests.support.paths import SAMPLE_INPUTS


def test_no_input_path_reaches_prefect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "prefect-redaction-test-key")
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    patient = pl.read_csv(SAMPLE / "claims.csv", columns=["patient_id"])["patient_id"][0]
    folder = tmp_path / f"exports-of-{patient}"
    folder.mkdir()
    given = []
    for source in SAMPLE_INPUTS:
        copy = folder / f"{source.stem}-{patient}.csv"
        shutil.copy(source, copy)
        given.append(f"--{source.stem}={copy}")
    args = ["run", *given, "--out", str(tmp_path / "out"), "--orchestrate", "--redact",
            "--no-history", "--no-expectations"]  # fmt: skip
    assert main(args) == 0
    direct = tmp_path / "direct"
    assert main([*args[: len(given) + 1], "--out", str(direct), "--redact", "--no-history",
                 "--no-expectations"]) == 0  # fmt: skip
    out = tmp_path / "out"
    assert (out / "findings.csv").read_bytes() == (direct / "findings.csv").read_bytes()

    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["mode"] == "prefect"
    flow_run_id = UUID(record["prefect"]["flow_run_id"])
    only_this_run = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        # Prefect ships a run's logs to its server from a background worker: they may arrive
        # a moment after the run has returned
        deadline = time.monotonic() + 30
        logs = client.read_logs(only_this_run)
        while not logs and time.monotonic() < deadline:
            time.sleep(0.2)
            logs = client.read_logs(only_this_run)
    kept = json.dumps(run.parameters) + run.name + " ".join(log.message for log in logs)
    assert run.parameters["prepared"] and run.parameters["redact"] is True
    assert run.parameters.get("claims") is None and logs
    assert patient not in kept and folder.name not in kept and "claims-" not in kept


def test_prepared_settings_are_taken_once(tmp_path: Path) -> None:
    token = prepare(settings(*SAMPLE_INPUTS, tmp_path / "o", history=False, expectations=False))
    assert audit_flow(prepared=token).findings_csv.exists()
    with pytest.raises(InputError, match="not in this process"):
        audit_flow(prepared=token)
