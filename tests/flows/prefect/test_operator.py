"""Scheduled audits an operator can read: the flow run named after its scope and period, the
summary artifact giving the report's path, the report linking back to its flow run, and the
output folder's index.html listing the run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from uuid import UUID

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from data import SAMPLE
from flows.run.prefect_flow import audit_flow


def test_a_drop_folder_run_is_named_indexed_and_linked(tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    for export in ("claims", "notes", "plans"):
        shutil.copy(SAMPLE / f"{export}.csv", folder / f"{export}-2026-03.csv")
    root = tmp_path / "audits"
    out = audit_flow(out=str(root), inputs=str(folder), scope="clinic-north",
                     period="2026-03-01..2026-03-31", expectations=False)  # fmt: skip
    record = json.loads((out.out_dir / "run.json").read_text())
    prefect = record["prefect"]
    assert prefect["flow_run_name"] == "clinic-north 2026-03"
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(UUID(prefect["flow_run_id"]))
        flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
        found = client.read_artifacts(artifact_filter=flt)
    assert run.name == "clinic-north 2026-03"

    summary_md = next(a for a in found if a.key == "audit-summary-clinic-north")
    report = (out.out_dir / "report.html").resolve()
    assert f"Report: `{report}`" in str(summary_md.data)
    assert "Refund or void the line" in str(summary_md.data)  # figures by recommended action

    html = report.read_text(encoding="utf-8")
    # the test server has a UI address, so the report links back to the run
    assert str(prefect["ui_url"]).startswith("http://")
    assert f'href="{prefect["ui_url"]}" data-fact="flow_run"' in html
    assert ">clinic-north 2026-03</a>" in html

    index = (root / "index.html").read_text(encoding="utf-8")
    assert f'<tr data-run="{out.run_id}">' in index
    assert f'href="{out.run_id}/report.html"' in index
    assert "2026-03-01 to 2026-03-31" in index and "clinic-north" in index
