"""Provider names from the optional providers export, shown beside the NPIs in the report; without
the export the report shows NPIs only, as before."""

from __future__ import annotations

import polars as pl

from data import SAMPLE
from flows.run.direct import AuditOutputs
from reports.charts import chart_groups
from reports.scorecard import scorecard
from reports.view_model import findings_table
from tests.support import report_fixture as fx


def _card() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider_npi": ["1000000004", "1000000012"],
            "lines": [4, 2], "claims": [4, 2], "lines_with_findings": [2, 2], "findings": [3, 2],
            "findings_rate": [0.5, 1.0], "amount_at_risk": [91.75, 117.92],
            "timed_units": [24, 2], "documented_minutes": [200, 31],
            "minutes_per_unit": [8.3, 15.5], "low_minutes": [True, False],
            "high_rate": [False, False],
        }
    )  # fmt: skip


def test_scorecard_names_the_providers_it_knows() -> None:
    named = scorecard(_card(), {"1000000004": "Dana Testwell, PT"})
    assert named["named"] is True
    assert [r["provider_name"] for r in named["rows"]] == ["Dana Testwell, PT", ""]
    plain = scorecard(_card())
    assert plain["named"] is False
    assert {r["provider_name"] for r in plain["rows"]} == {""}


def test_findings_table_carries_names_of_the_providers_shown_only() -> None:
    findings = fx.findings_frame()
    summary = fx.summary(findings)
    npi = findings["provider_npi"][0]
    names = {npi: "Dana Testwell, PT", "1999999999": "Not In The Findings"}
    data = findings_table(summary, findings, 200, fx.RUN, None, names)["data"]
    assert data["names"] == {npi: "Dana Testwell, PT"}
    assert "names" not in findings_table(summary, findings, 200, fx.RUN)["data"]
    labels = [
        label
        for group in chart_groups(summary, findings, names)
        if group["key"] == "provider"
        for chart in group["charts"]
        for bar in chart.bars
        for label in [bar.label]
    ]
    assert f"{npi} Dana Testwell, PT" in labels


def test_the_demo_report_shows_the_sample_providers_names(demo_run: AuditOutputs) -> None:
    assert demo_run.validation.providers is not None
    assert demo_run.report_html is not None
    html = demo_run.report_html.read_text(encoding="utf-8")
    sample = pl.read_csv(SAMPLE / "providers.csv", infer_schema=False)
    rendering = set(demo_run.validation.claims["rendering_npi"])
    shown = sample.filter(pl.col("npi").is_in(list(rendering)))
    assert shown.height > 0
    for name in shown["name"]:
        assert name in html, name
