"""report.html in a real headless browser (Debian chromium driven by Playwright): it opens from
disk with no console error and no request but the file itself, its filters, search and sort
change the visible rows, hostile data runs no script, and a screenshot of it is saved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from flows.run.direct import AuditOutputs
from reports.render import render_report
from schemas.findings import FINDINGS_SCHEMA
from tests.support import report_fixture as fx

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (`make browser` installs it)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Page:
    """A page with every console error, page error, request and dialog recorded."""

    def __init__(self, browser: object, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1360, "height": 900})  # type: ignore[attr-defined]
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.url = path.resolve().as_uri()
        self.page.goto(self.url)
        self.page.wait_for_selector("#findings-count:not(:empty)")

    def rows(self) -> list[dict[str, str]]:
        """The visible findings, each as {column: text} (cells name their parts data-col)."""
        return self.page.eval_on_selector_all(
            "#findings-body tr",
            """rows => rows.map(r => Object.fromEntries(
                Array.from(r.querySelectorAll("[data-col]"), e => [e.dataset.col, e.textContent])
            ))""",
        )

    def settle(self) -> None:
        self.page.wait_for_timeout(250)  # the search box waits 120 ms before filtering


def dollars(text: str) -> float:
    return float(text.strip("$").replace(",", ""))


def test_demo_report_offline_filters_and_screenshot(
    browser: object, demo_run: AuditOutputs, tmp_path: Path
) -> None:
    out = demo_run
    assert out.report_html is not None
    summary = json.loads(out.summary_json.read_text())
    p = Page(browser, out.report_html)

    everything = p.rows()
    assert len(everything) == min(250, summary["findings"])
    amounts = [dollars(r["amount_at_risk"]) for r in everything]
    assert amounts == sorted(amounts, reverse=True)  # largest amount at risk first

    p.page.select_option("#filter-rule", "DOC-NO-NOTE")
    rows = p.rows()
    assert len(rows) == summary["by_rule"]["DOC-NO-NOTE"]["findings"] > 0
    assert {r["rule_id"] for r in rows} == {"DOC-NO-NOTE"}
    assert all(r["evidence"] and r["message"] for r in rows)  # each finding shows its evidence

    p.page.select_option("#filter-rule", "")
    p.page.select_option("#filter-severity", "warning")
    assert {r["severity"] for r in p.rows()} == {"warning"}
    p.page.click("#filter-reset")

    findings = pl.read_parquet(out.findings_parquet)
    claim = findings["claim_id"][0]
    p.page.fill("#filter-text", claim)
    p.settle()
    rows = p.rows()
    assert {r["claim_id"] for r in rows} == {claim}
    assert len(rows) == findings.filter(pl.col("claim_id") == claim).height
    p.page.fill("#filter-text", "no such finding anywhere")
    p.settle()
    assert p.rows() == [] and "No finding" in p.page.inner_text("#findings-count")
    p.page.fill("#filter-text", "")
    p.settle()

    p.page.click("th button[data-sort='amount_at_risk']")  # toggles to ascending
    ascending = [dollars(r["amount_at_risk"]) for r in p.rows()]
    assert ascending == sorted(ascending) and ascending[0] == findings["amount_at_risk"].min()

    p.page.click("#filter-reset")
    p.page.click("th button[data-sort='amount_at_risk']")
    p.page.evaluate("window.scrollTo(0, 0)")
    shot = tmp_path / "report.png"
    p.page.screenshot(path=str(shot))
    box = p.page.locator("#findings").bounding_box()  # page coordinates while scrolled to top
    assert box is not None
    p.page.screenshot(
        path=str(tmp_path / "report-findings.png"), full_page=True, clip={**box, "height": 1100}
    )
    assert shot.stat().st_size > 20_000
    p.page.emulate_media(media="print")
    assert not p.page.is_visible(".controls")  # filters are hidden when printed

    assert p.errors == []
    assert p.requests == [p.url], p.requests


def test_hostile_report_runs_no_script(browser: object, tmp_path: Path) -> None:
    evil = "<img src=x onerror=alert(1)>"
    breakout = "</script><script>alert(2)</script>"
    findings = pl.concat(
        [
            fx.findings_frame(),
            pl.DataFrame(
                [
                    fx.finding("UNITS-8MIN", "error", "C9", 1, evil, 9, 5.0, message=breakout,
                               evidence=f"<!-- {evil}", patient="<script>alert(3)</script>")
                ],
                schema=FINDINGS_SCHEMA,
            ),
        ]
    )  # fmt: skip
    path = tmp_path / "report.html"
    path.write_text(render_report(fx.view(findings=findings)), encoding="utf-8")
    p = Page(browser, path)
    p.page.select_option("#filter-provider", evil)
    rows = p.rows()
    assert len(rows) == 1 and rows[0]["provider_npi"] == evil and rows[0]["message"] == breakout
    assert rows[0]["patient_id"] == "<script>alert(3)</script>"
    p.page.fill("#filter-text", "alert(3)")
    p.settle()
    assert len(p.rows()) == 1
    assert p.dialogs == [] and p.errors == [] and p.requests == [p.url]
    assert p.page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
