"""report.html's Exposure part on the demo audit: the figures of checks/sampling/exposure.py,
the caveat that findings are not a review, and agreement with `sample draw`'s pre-fill."""

from __future__ import annotations

import re

from checks.sampling.exposure import expected_exposure
from flows.run.direct import AuditOutputs


def _metric(page: str, key: str) -> float:
    found = re.search(rf'data-metric="{key}" data-value="([^"]+)"', page)
    assert found, key
    return float(found.group(1))


def test_exposure_in_the_demo_report(demo_run: AuditOutputs) -> None:
    assert demo_run.report_html is not None
    page = demo_run.report_html.read_text(encoding="utf-8")
    section = page[page.index('<section id="exposure">') :].split("</section>", 1)[0]
    assert "Findings are not a review" in section
    e = expected_exposure(demo_run.validation.claims.lazy(), demo_run.result.findings.lazy())
    assert e is not None and e.universe_claims > 0 and 0 < e.at_risk_total < e.paid_total
    assert _metric(section, "exposure_universe_claims") == e.universe_claims
    assert _metric(section, "exposure_paid_total") == e.paid_total
    assert _metric(section, "exposure_at_risk_total") == e.at_risk_total
    assert _metric(section, "exposure_point_estimate") == e.point_estimate
    assert _metric(section, "exposure_lower_limit") == e.lower_limit_one_sided_90
    assert e.lower_limit_one_sided_90 < e.point_estimate
    # the findings never put more at risk than the run's summary counts (which does not cap at paid)
    assert e.at_risk_total <= demo_run.summary["amount_at_risk"] + 0.005
