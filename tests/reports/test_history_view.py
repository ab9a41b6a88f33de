"""report.html's history and reviews on the fixed report fixture: trend, new /
persisting / resolved, reviewed findings marked and counted, all of it autoescaped."""

from __future__ import annotations

import json
import re
from datetime import date

import polars as pl

from checks.dispositions import MARK_SCHEMA, apply_dispositions
from reports.history_view import Changes
from reports.render import render_report
from tests.support import report_fixture as fx

EVIL = "<script>alert(1)</script>"


def changes_and_summary() -> tuple[Changes, dict]:
    findings = fx.findings_frame()
    ids = findings["finding_id"].to_list()
    current = findings.select(
        "finding_id",
        pl.when(pl.int_range(pl.len()) < 2).then(pl.lit("new")).otherwise(pl.lit("persisting"))
        .alias("status"),
        "rule_id", "severity", "amount_at_risk",
    )  # fmt: skip
    resolved = pl.DataFrame(
        {"finding_id": ["DOC-NO-NOTE:C999:3", f"POC-MISSING:C{EVIL}:1"],
         "status": ["resolved"] * 2, "rule_id": ["DOC-NO-NOTE", "POC-MISSING"],
         "severity": ["error", "warning"], "amount_at_risk": [12.5, 3.0]}
    )  # fmt: skip
    statuses = pl.concat([current, resolved])
    marks_in = pl.DataFrame(
        {"finding_id": [ids[2], "UNITS-8MIN:GONE:1"], "disposition": ["false-positive"] * 2,
         "reviewer": [EVIL, "x"], "reviewed_on": [date(2026, 2, 1)] * 2,
         "reason": ["=HYPERLINK(1) <b>bold</b>", None]},
        schema=MARK_SCHEMA,
    )  # fmt: skip
    marks, counts = apply_dispositions(findings, marks_in)
    summary = fx.summary(findings)
    summary["dispositions"] = {"file": f"{EVIL}.csv", **counts}
    summary["history"] = {
        "scope": "clinic-north",
        "run_id": fx.RUN.run_id,
        "previous_run_id": "RUN-PREV",
        "previous_started_at": "2026-01-01T06:00:00+00:00",
        "counts": {"new": 2, "persisting": len(ids) - 2, "resolved": 2},
    }
    trend = (
        {"run_id": "RUN-OLDER", "started_at": "2025-12-01T06:00:00+00:00", "findings": 9,
         "lines_with_findings": 7, "amount_at_risk": 400.0},
        {"run_id": "RUN-PREV", "started_at": "2026-01-01T06:00:00+00:00", "findings": 8,
         "lines_with_findings": 6, "amount_at_risk": 300.0},
    )  # fmt: skip
    return Changes(statuses=statuses, trend=trend, marks=marks), summary


def test_history_and_reviews_sections() -> None:
    changes, summary = changes_and_summary()
    view = fx.view(summary=summary, changes=changes)
    html = render_report(view)
    assert 'data-history="new">2<' in html and 'data-history="resolved">2<' in html
    assert "RUN-PREV" in html and "clinic-north" in html
    trend = re.search(r'id="trend-table".*?</table>', html, re.S).group(0)
    assert [r for r in ("RUN-OLDER", "RUN-PREV", "RUN-FIXED (this run)") if r in trend] == [
        "RUN-OLDER", "RUN-PREV", "RUN-FIXED (this run)"]  # fmt: skip
    assert 'id="chart-trend-findings"' in html and 'id="chart-trend-amount"' in html
    resolved = re.search(r'id="resolved-table".*?</table>', html, re.S).group(0)
    assert "C999 line 3" in resolved and "DOC-NO-NOTE" in resolved
    # reviews: counted apart, one stale disposition, the reviewed finding still everywhere
    assert 'data-reviews="reviewed">1<' in html and "1 disposition matched no finding" in html
    row = re.search(r'<tr data-disposition="false-positive">.*?</tr>', html, re.S).group(0)
    assert 'data-value="1">1<' in row
    assert view["kpi"]["findings"]["value"] == fx.findings_frame().height
    assert '<a href="#history">' in html and '<a href="#reviews">' in html
    # every text from the files is escaped, nothing became markup
    assert EVIL not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>bold</b>" not in html


def test_findings_table_carries_status_and_disposition() -> None:
    changes, summary = changes_and_summary()
    html = render_report(fx.view(summary=summary, changes=changes))
    data = json.loads(re.search(r'id="findings-data">(.*?)</script>', html, re.S).group(1))
    col = {c: i for i, c in enumerate(data["columns"])}
    assert data["columns"][-2:] == ["status", "disposition"]
    statuses = sorted(r[col["status"]] for r in data["rows"])
    assert statuses.count("new") == 2 and statuses.count("persisting") == len(statuses) - 2
    assert [r[col["disposition"]] for r in data["rows"]].count("false-positive") == 1
    assert 'id="filter-status"' in html


def test_without_history_or_reviews_nothing_changes() -> None:
    html = render_report(fx.view())
    assert 'id="history"' not in html and 'id="reviews"' not in html
    assert 'id="filter-status"' not in html
    data = json.loads(re.search(r'id="findings-data">(.*?)</script>', html, re.S).group(1))
    assert "status" not in data["columns"]
