"""`serve`'s index.html (flows/schedule/index.py, reports/index_view.py): every run folder of the
output folder, newest first, with its period, findings, amount and its scope's trend."""

from __future__ import annotations

import json
import re
from pathlib import Path

from flows.schedule.index import write_index


def run_folder(
    root: Path, run_id: str, started: str, scope: str, amount: float, findings: int,
    *, ui_url: str | None = None, report: bool = True,
) -> None:  # fmt: skip
    folder = root / run_id
    folder.mkdir(parents=True)
    summary = {
        "lines_audited": 1000, "findings": findings, "lines_with_findings": findings,
        "amount_at_risk": amount, "history": {"scope": scope},
        "period": {"start": "2026-10-01", "end": "2026-10-31"},
    }  # fmt: skip
    (folder / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    run = {"run_id": run_id, "started_at": started, "prefect": {"ui_url": ui_url}}
    (folder / "run.json").write_text(json.dumps(run), encoding="utf-8")
    if report:
        (folder / "report.html").write_text("<html></html>", encoding="utf-8")


def rows(html: str) -> list[str]:
    return re.findall(r'<tr data-run="([^"]+)">', html)


def test_index_lists_every_run_newest_first_with_its_scopes_trend(tmp_path: Path) -> None:
    run_folder(tmp_path, "r1", "2026-11-01T06:00:00+00:00", "clinic-north", 1000.0, 10)
    run_folder(tmp_path, "r2", "2026-12-01T06:00:00+00:00", "clinic-north", 1500.0, 12,
               ui_url="http://127.0.0.1:4200/runs/flow-run/abc")  # fmt: skip
    run_folder(tmp_path, "r3", "2026-12-01T07:00:00+00:00", "clinic-south", 200.0, 2)
    run_folder(tmp_path, "r4", "2026-12-02T07:00:00+00:00", "clinic-south", 50.0, 1,
               ui_url="javascript:alert(1)", report=False)  # fmt: skip
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "summary.json").write_text("{not json", encoding="utf-8")
    (tmp_path / ".therapy-audit").mkdir()  # the shared history folder is no run
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert rows(html) == ["r4", "r3", "r2", "r1"]
    row = {r: html.split(f'<tr data-run="{r}">', 1)[1].split("</tr>", 1)[0] for r in rows(html)}
    assert "first run of its scope" in row["r1"] and "first run of its scope" in row["r3"]
    assert "▲ +$500.00" in row["r2"] and "▼ −$150.00" in row["r4"]
    assert 'href="r2/report.html"' in row["r2"] and "report.html" not in row["r4"]
    assert 'href="http://127.0.0.1:4200/runs/flow-run/abc"' in row["r2"]
    assert "javascript:" not in html  # only web addresses become links
    assert "2026-10-01 to 2026-10-31" in row["r1"] and "$1,500.00" in row["r2"]
    assert "<script" not in html and "Content-Security-Policy" in html
    assert "4 runs of 2 scopes" in html


def test_an_empty_folder_gives_an_index_saying_so(tmp_path: Path) -> None:
    html = write_index(tmp_path).read_text(encoding="utf-8")
    assert "No run has finished in this folder yet." in html
    assert not list(tmp_path.glob(".*.part"))
