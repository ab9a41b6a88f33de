"""The officer's walk in a real headless browser (Debian chromium, Playwright): open the report of
an audit run with --packets, filter and group the findings, share the view by its address, open a
claim's evidence packet from the table, and print-preview it; the report and the packet at 1440
and 390 px wide, whose full-page screenshots must be no wider than the window (no horizontal
overflow)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from flows.cli.main import main
from reports.packet_view import packet_name, top_claims
from tests.reports.test_browser import ARGS, CHROMIUM, Page
from tests.support.paths import SAMPLE_ARGS

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium is not installed (`make browser` installs it)"
)
WIDTHS = (1440, 390)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("walk") / "out"
    argv = ["run", *SAMPLE_ARGS, "--out", str(out), "--no-history", "--no-expectations",
            "--packets", "--packet-limit", "30", "--report-limit", "40"]  # fmt: skip
    assert main(argv) == 0
    return out


def png_width(path: Path) -> int:
    """The width in the PNG's IHDR chunk (bytes 16-20)."""
    return int(struct.unpack(">I", path.read_bytes()[16:20])[0])


def no_overflow(page: object, path: Path, width: int) -> None:
    """A full-page screenshot as wide as the window: nothing sticks out sideways."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # type: ignore[attr-defined]
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    assert png_width(path) == width, f"{path.name}: the page is wider than {width} px"


def test_report_filter_share_packet_and_print(browser: object, audit: Path, tmp_path: Path) -> None:
    findings = pl.read_parquet(audit / "findings.parquet")
    claim = top_claims(findings, 1)[0]  # the most money at risk: shown and given a packet
    rule = findings.filter(pl.col("claim_id") == claim)["rule_id"][0]
    p = Page(browser, audit / "report.html")

    # filter by the rule and group by claim: the view goes into the address
    p.page.select_option("#filter-rule", rule)
    p.page.select_option("#group-by", "claim_id")
    assert "#findings?" in p.page.url and f"rule={rule}" in p.page.url
    assert "group=claim_id" in p.page.url
    rows = p.rows()
    assert rows and {r["rule_id"] for r in rows if "rule_id" in r} == {rule}
    groups = p.page.eval_on_selector_all(
        "#findings-body tr.group-row", "rows => rows.map(r => r.textContent)"
    )
    assert any(claim in g for g in groups) and all(" at risk" in g for g in groups)

    # the shared address opens the same view
    shared = Page(browser, audit / "report.html")
    shared.page.goto(p.page.url)
    shared.page.reload()
    shared.page.wait_for_selector("#findings-count:not(:empty)")
    assert shared.page.eval_on_selector("#filter-rule", "e => e.value") == rule
    assert shared.page.eval_on_selector("#group-by", "e => e.value") == "claim_id"
    assert shared.rows() == rows

    # a claim that is not among the findings on the page: said so, with the files that hold all
    p.page.click("#filter-reset")
    p.page.fill("#filter-text", "C-NOT-ON-THIS-PAGE")
    p.settle()
    message = p.page.inner_text("#findings-count")
    assert "No finding on this page" in message and "findings.csv" in message
    assert "findings.xlsx" in message
    p.page.fill("#filter-text", claim)
    p.settle()

    for width in WIDTHS:
        p.page.set_viewport_size({"width": width, "height": 900})
        no_overflow(p.page, tmp_path / f"report-{width}.png", width)

    # open the claim's packet from the findings table
    p.page.set_viewport_size({"width": 1440, "height": 900})
    link = p.page.locator(f"#findings-body a.packet-link:text-is('{claim}')").first
    assert link.get_attribute("href") == f"packets/{packet_name('claim', claim)}"
    link.click()
    p.page.wait_for_load_state()
    assert p.page.url.endswith(packet_name("claim", claim))
    assert claim in p.page.inner_text("h1")
    assert p.page.locator(f"section.claim[data-claim='{claim}']").count() == 1
    assert (
        p.page.locator(".packet-findings tbody tr").count()
        == findings.filter(pl.col("claim_id") == claim).height
    )

    for width in WIDTHS:
        p.page.set_viewport_size({"width": width, "height": 900})
        no_overflow(p.page, tmp_path / f"packet-{width}.png", width)

    # print preview: headers repeat on every printed page, and the PDF renders
    p.page.emulate_media(media="print")
    display = p.page.eval_on_selector_all(
        "thead", "heads => heads.map(h => getComputedStyle(h).display)"
    )
    assert display and set(display) == {"table-header-group"}
    pdf = tmp_path / "packet.pdf"
    p.page.pdf(path=str(pdf), format="Letter")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000

    assert p.errors == [] and shared.errors == []
    assert all(u.startswith("file://") for u in p.requests + shared.requests), p.requests


def test_report_prints_every_matching_finding_with_repeating_headers(
    browser: object, audit: Path
) -> None:
    p = Page(browser, audit / "report.html")
    shown = int(p.page.evaluate("JSON.parse(document.getElementById('findings-data')"
                                ".textContent).rows.length"))  # fmt: skip
    total = pl.read_parquet(audit / "findings.parquet").height
    assert total > shown > 250  # more than a page: the pager is there on screen
    assert p.page.is_visible("#page-next") and len(p.rows()) == 250
    p.page.click("#page-next")
    assert "page=2" in p.page.url and len(p.rows()) == shown - 250
    p.page.emulate_media(media="print")
    p.page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert len(p.rows()) == shown  # a printout holds every finding the filters let through
    assert not p.page.is_visible(".controls") and not p.page.is_visible("#page-next")
    heads = p.page.eval_on_selector_all("thead", "hs => hs.map(h => getComputedStyle(h).display)")
    assert set(heads) == {"table-header-group"}
    p.page.evaluate("window.dispatchEvent(new Event('afterprint'))")
    p.page.emulate_media(media="screen")
    assert len(p.rows()) == shown - 250
    assert p.errors == []
