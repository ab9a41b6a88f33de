"""report.html states the audit period that limited the audit: in the page title, the header, the
scope and the executive summary, with the lines outside it; without a period nothing changes
(the golden file)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

import pytest

from checks.summary import period_summary
from reports.formatting import period_sentence
from reports.render import render_report
from tests.support import report_fixture as fx

JANUARY = (dt.date(2026, 1, 1), dt.date(2026, 1, 31))


@pytest.mark.parametrize(
    ("audited", "outside", "text"),
    [
        (40, 1234, "Audit period 2026-01-01 to 2026-01-31; 1,234 lines outside it were not "
                   "audited"),
        (40, 1, "Audit period 2026-01-01 to 2026-01-31; 1 line outside it was not audited"),
        (40, 0, "Audit period 2026-01-01 to 2026-01-31; no claim line is outside it"),
        (0, 9, "Audit period 2026-01-01 to 2026-01-31; 9 lines outside it were not audited; "
               "no claim line is dated within it, so no line was audited"),
    ],
)  # fmt: skip
def test_period_sentence(audited: int, outside: int, text: str) -> None:
    assert period_sentence(period_summary(JANUARY, audited, outside)) == text


def period_view(audited: int = 40, outside: int = 1234) -> dict[str, Any]:
    summary = fx.summary()
    summary["period"] = period_summary(JANUARY, audited, outside)
    claims = summary["inputs"]["claims"]
    claims.update(rows_audited=audited, rows_outside_period=outside)
    run = dataclasses.replace(fx.RUN, period=JANUARY, audit_period=True)
    return fx.view(summary=summary, run=run)


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_page_states_the_audit_period_and_the_lines_outside_it() -> None:
    html = render_report(period_view())
    sentence = "Audit period 2026-01-01 to 2026-01-31; 1,234 lines outside it were not audited"
    title = re.search(r"<title>(.*?)</title>", html)
    assert title and "Audit period 2026-01-01 to 2026-01-31" in title.group(1)
    h1 = re.search(r"<h1>(.*?)</h1>", html, flags=re.S)
    assert h1 and text_of(h1.group(1)) == "Audit period 2026-01-01 to 2026-01-31"
    scope = html[html.index('id="scope"') : html.index('id="summary"')]
    summary = html[html.index('id="summary"') : html.index('id="rules"')]
    for section in (scope, summary):
        assert sentence in text_of(section)
    assert "Audit period (dates of service)" in text_of(scope)
    # the claims row of "Rows by export": accepted = audited + outside the period
    assert 'data-field="rows_audited">40<' in scope
    assert 'data-field="rows_outside_period">1,234<' in scope
    assert "read = audited + outside the audit period + quarantined" in text_of(scope)


def test_a_period_with_no_claim_line_says_that_nothing_was_audited() -> None:
    html = render_report(period_view(audited=0, outside=9))
    assert "no claim line is dated within it, so no line was audited" in text_of(html)


def test_without_a_period_the_page_names_the_dates_of_service() -> None:
    html = render_report(fx.view())
    assert "Audit period" not in html
    h1 = re.search(r"<h1>(.*?)</h1>", html, flags=re.S)
    assert h1 and text_of(h1.group(1)) == "Services 2026-01-03 to 2026-02-20"
