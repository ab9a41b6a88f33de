"""report.html: golden rendering, numbers equal to summary.json, hostile input shown
as text, a page that stays small for a million findings, and the metrics behind it.

Regenerate the golden file after an intended change with
    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/reports/test_report.py -k golden
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import polars as pl
import pytest
from jinja2 import StrictUndefined, UndefinedError

from checks.engine import AuditResult, RuleRun
from checks.registry import all_rules
from checks.summary import build_summary
from data import SAMPLE
from flows.run.direct import AuditOutputs, run_audit
from reports import metrics
from reports.render import environment, render_report, script_json
from reports.view_model import InputFile, RunInfo, embedded
from schemas.findings import FINDINGS_SCHEMA
from tests.support import report_fixture as fx

GOLDEN = Path(__file__).parent / "golden" / "report.html"
HOSTILE_FILE = "<img src=x onerror=alert(1)>.csv"
BREAKOUT = "</script><script>alert(1)</script>"


def normalise(html: str) -> str:
    """The page without what changes on every styling edit (the inlined CSS and JS and their
    CSP hashes), so the golden file pins the content and the markup."""
    html = re.sub(r"<style>.*?</style>", "<style>/* report.css */</style>", html, flags=re.S)
    html = re.sub(
        r"<script>(?!\s*$).*?</script>", "<script>/* report.js */</script>", html, flags=re.S
    )
    # the CSP attribute is autoescaped: its quotes are &#39;
    return re.sub(r"(?:'|&#39;)sha256-[A-Za-z0-9+/=]+(?:'|&#39;)", "'sha256-…'", html)


def test_golden_rendering() -> None:
    html = normalise(render_report(fx.view()))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(html, encoding="utf-8")
    expected = GOLDEN.read_text(encoding="utf-8")
    if html != expected:
        diff = "\n".join(
            list(difflib.unified_diff(expected.splitlines(), html.splitlines(), lineterm=""))[:60]
        )
        pytest.fail(f"report.html differs from {GOLDEN} (UPDATE_GOLDEN=1 to accept):\n{diff}")


def test_every_template_autoescapes_and_is_strict() -> None:
    env = environment()
    assert env.autoescape is True  # not select_autoescape(), which skips *.html.j2
    assert env.undefined is StrictUndefined
    assert env.list_templates() == sorted(env.list_templates())  # all under reports/templates
    for name in env.list_templates():
        assert name.endswith(".html.j2"), name
    with pytest.raises(UndefinedError):
        env.from_string("{{ view.nope }}").render(view={})


class Numbers(HTMLParser):
    """Collects the text of elements carrying data-metric / data-field, keyed by the row
    (data-rule / data-severity) they sit in, and the value labels of each SVG chart."""

    def __init__(self) -> None:
        super().__init__()
        self.row: str | None = None
        self.chart: str | None = None
        self.open: tuple[str, str, str] | None = None
        self.cells: dict[tuple[str, str], tuple[str, str]] = {}
        self.bars: dict[str, list[str]] = {}
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tr":
            self.row = a.get("data-rule") or a.get("data-severity")
        if tag == "svg":
            self.chart = a.get("id")
        if "data-metric" in a:
            self.open = ("headline", a["data-metric"], a["data-value"])
        elif "data-field" in a and self.row:
            self.open = (self.row, a["data-field"], a.get("data-value", ""))
        elif tag == "text" and "bar-value" in a.get("class", "") and self.chart:
            self.open = ("bar", self.chart, "")
        self.text = ""

    def handle_data(self, data: str) -> None:
        self.text += data

    def handle_endtag(self, tag: str) -> None:
        if self.open is None:
            return
        where, key, value = self.open
        if where == "bar":
            self.bars.setdefault(key, []).append(self.text)
        else:
            self.cells[(where, key)] = (value, self.text.strip())
        self.open = None


def money(x: float) -> str:
    return f"${x:,.2f}"


@pytest.fixture
def demo(demo_run: AuditOutputs) -> Path:
    return demo_run.out_dir


def test_demo_numbers_equal_summary_json(demo: Path) -> None:
    summary = json.loads((demo / "summary.json").read_text())
    page = Numbers()
    page.feed((demo / "report.html").read_text(encoding="utf-8"))
    shown = {
        "lines_audited": f"{summary['lines_audited']:,}",
        "claims_audited": f"{summary['claims_audited']:,}",
        "lines_with_findings": f"{summary['lines_with_findings']:,}",
        "findings": f"{summary['findings']:,}",
        "line_error_rate": f"{summary['line_error_rate'] * 100:.2f}%",
        "amount_at_risk": money(summary["amount_at_risk"]),
    }
    for key, text in shown.items():
        value, displayed = page.cells[("headline", key)]
        assert float(value) == summary[key] and displayed == text, key
    for sev, row in summary["by_severity"].items():
        for field in ("findings", "lines", "amount_at_risk"):
            value, displayed = page.cells[(sev, field)]
            assert float(value) == row[field], (sev, field)
        assert page.cells[(sev, "amount_at_risk")][1] == money(row["amount_at_risk"])
    for rule_id, row in summary["by_rule"].items():
        assert page.cells[(rule_id, "status")][1] == row["status"]
        for field in ("findings", "lines", "amount_at_risk"):
            assert float(page.cells[(rule_id, field)][0]) == row[field], (rule_id, field)
        assert page.cells[(rule_id, "findings")][1] == f"{row['findings']:,}"
        assert page.cells[(rule_id, "amount_at_risk")][1] == money(row["amount_at_risk"])
    # charts: by rule from the summary; by month adds up to the summary's totals
    rule_bars = sorted(int(t.replace(",", "")) for t in page.bars["chart-rule-findings"])
    assert rule_bars == sorted(r["findings"] for r in summary["by_rule"].values() if r["findings"])
    month_amounts = [float(t.strip("$").replace(",", "")) for t in page.bars["chart-month-amount"]]
    assert sum(month_amounts) == pytest.approx(summary["amount_at_risk"], abs=0.01)


def test_demo_report_scope_and_sections(demo: Path) -> None:
    html = (demo / "report.html").read_text(encoding="utf-8")
    assert "Services 2026-01-05 to 2026-04-03" in html
    for name in ("claims.csv", "notes.csv", "plans.csv"):
        assert f'<td class="filename">{name}</td>' in html
    assert re.search(r'class="mono hash">[0-9a-f]{64}<', html)
    # dataset expectations ran beside the rules; history compares with earlier runs
    assert re.search(r"<strong>\d+</strong> of 10 dataset-level expectations met", html)
    assert 'id="history"' in html and 'id="trend-table"' in html
    assert html.count('class="rule-entry"') == len(all_rules())  # the whole catalogue
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), "external reference"
    assert "@import" not in html and "url(" not in html


def test_hostile_text_is_shown_as_text() -> None:
    evil = "<img src=x onerror=alert(1)>"
    findings = pl.concat(
        [
            fx.findings_frame(),
            pl.DataFrame(
                [
                    fx.finding(
                        "UNITS-8MIN", "error", "C9<b>", 1, '9"><svg onload=alert(1)>', 9, 5.0,
                        message=BREAKOUT, evidence=f"note text: {evil} <!-- & {BREAKOUT}",
                        patient="<script>alert('p')</script>",
                    )
                ],
                schema=FINDINGS_SCHEMA,
            ),
        ]
    )  # fmt: skip
    run = RunInfo(
        **{**fx.RUN.__dict__, "inputs": (InputFile("claims", HOSTILE_FILE, 3, "d" * 64),)}
    )
    validation = json.loads(json.dumps(fx.VALIDATION))
    validation["exports"]["notes"]["problems_by_reason"] = {f"note_text {BREAKOUT}": 1}
    summary = fx.summary(findings)
    summary["by_rule"]["TIME-INVALID"]["error"] = f"ValueError: {evil}"
    summary["expectations"] = [
        {"name": evil, "export": "notes", "success": False, "observed": BREAKOUT, "expected": 1}
    ]
    html = render_report(
        fx.view(findings=findings, run=run, validation=validation, summary=summary)
    )
    assert "<img" not in html and "<svg onload" not in html and "onerror=alert(1)>" not in html
    assert BREAKOUT not in html and "<!--" not in html
    assert html.count("<script") == 2  # the JSON data and our own script, nothing injected
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html  # the file name, escaped
    assert "note_text &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    blob = re.search(r'<script type="application/json" id="findings-data">(.*?)</script>', html)
    assert blob is not None
    data = json.loads(blob.group(1))  # \u003c escapes parse back to the original text
    messages = {row[data["columns"].index("message")] for row in data["rows"]}
    assert BREAKOUT in messages
    assert '9"><svg onload=alert(1)>' in data["providers"]


def test_script_json_cannot_break_out() -> None:
    text = str(script_json({"a": "</script><!-- & >", "b": "\u2028"}))
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><!-- & >", "b": "\u2028"}


def test_expectations_are_rendered_when_present() -> None:
    summary = fx.summary()
    assert "not run in this version" in render_report(fx.view(summary=summary))
    summary["expectations"] = [
        {"name": "row_count_between", "export": "claims", "success": True, "observed": 10,
         "expected": "1..100"},
        {"name": "ids_unique", "export": "notes", "success": False, "observed": 2, "expected": 0},
    ]  # fmt: skip
    html = render_report(fx.view(summary=summary))
    assert "not run in this version" not in html
    assert (
        "row count between" in html
        and "row_count_between" not in html
        and ">not met<" in html
        and ">met<" in html
    )


def test_page_states_where_the_complete_list_is_when_capped() -> None:
    html = render_report(fx.view(per_rule=1))
    assert 'id="findings-limit"' in html
    assert "The complete list is in findings.csv, findings.parquet, findings.xlsx" in html
    assert "This page shows <strong>3</strong> of the run's <strong>6</strong>" in html


def test_embedded_keeps_the_largest_amounts_of_each_rule() -> None:
    f = fx.findings_frame()
    picked = embedded(f, 1)
    assert sorted(picked["rule_id"]) == ["DOC-NO-NOTE", "POC-MISSING", "UNITS-8MIN"]
    assert set(picked["amount_at_risk"]) == {60.25, 45.0, 88.0}
    assert picked["amount_at_risk"].is_sorted(descending=True)


def synthetic_findings(n: int, rule_ids: list[str]) -> pl.DataFrame:
    i = pl.int_range(n, dtype=pl.Int64)
    return pl.select(
        pl.lit(None, pl.String).alias("finding_id"),
        pl.lit(pl.Series(rule_ids)).gather(i % len(rule_ids)).alias("rule_id"),
        pl.when(i % 3 == 0).then(pl.lit("warning")).otherwise(pl.lit("error")).alias("severity"),
        pl.format("C{}", i).alias("claim_id"),
        pl.lit(1, pl.Int64).alias("line_number"),
        pl.format("P{}", i % 40_000).alias("patient_id"),
        (pl.lit(1_000_000_000) + i % 900).cast(pl.String).alias("provider_npi"),
        (pl.lit(dt.date(2025, 1, 1)) + pl.duration(days=i % 365)).alias("service_date"),
        pl.lit("97110").alias("procedure_code"),
        pl.lit(3, pl.Int64).alias("billed_units"),
        pl.lit(1, pl.Int64).alias("supported_units"),
        pl.lit(2, pl.Int64).alias("excess_units"),
        ((i * 7919) % 10_000 / 100).alias("amount_at_risk"),
        pl.format("97110 was billed for 3 units but the note has {} minutes", i % 20).alias(
            "message"
        ),
        pl.format("notes=N{}; minutes={}; billed=3 → 1 units (cms)", i, i % 20).alias("evidence"),
    ).with_columns(pl.format("{}:{}:1", "rule_id", "claim_id").alias("finding_id"))


@pytest.mark.slow
def test_a_million_findings_render_fast_and_small() -> None:
    rules = {r: fx.make_rule(r, r.split("-")[0].lower(), f"Rule {r}") for r in fx.RULES}
    extra = [f"EXTRA-R{k}" for k in range(8)]
    rules |= {r: fx.make_rule(r, "extra", f"Rule {r}") for r in extra}
    f = synthetic_findings(1_000_000, sorted(rules)).cast(FINDINGS_SCHEMA)
    runs = {r: RuleRun(r, "findings", int((f["rule_id"] == r).sum()), ["medicare"]) for r in rules}
    summary = build_summary(AuditResult(f, runs, 3_000_000, 1_200_000, {"medicare": 3}), rules)
    start = time.perf_counter()
    html = render_report(
        fx.view(findings=f, summary=summary, catalogue=[], provider_card=None, per_rule=200)
    )
    elapsed = time.perf_counter() - start
    size = len(html.encode("utf-8"))
    print(f"\n1M findings: {elapsed:.2f} s, {size / 1e6:.2f} MB")
    assert elapsed < 4, elapsed
    assert size < 3_000_000, size
    assert f"of the run's <strong>{1_000_000:,}</strong> findings" in html
    assert html.count('"EXTRA-R1"') >= 1


def test_metrics_add_up_and_flag_outliers() -> None:
    f = fx.findings_frame()
    by_provider = metrics.by_provider(f)
    by_month = metrics.by_month(f)
    s = fx.summary(f)
    for table in (by_provider, by_month):
        assert table["findings"].sum() == s["findings"]
        assert table["lines"].sum() == s["lines_with_findings"]
        assert table["amount_at_risk"].sum() == pytest.approx(s["amount_at_risk"], abs=0.01)
    assert by_month["key"].to_list() == ["2026-01", "2026-02"]
    # C001/2 has two findings (31.50 each): counted once
    assert by_provider.filter(pl.col("key") == fx.P1)["amount_at_risk"].item() == 91.75

    card = metrics.provider_scorecard(
        fx.claims_frame(), fx.notes_frame(), f, {"medicare": {"97110"}, "commercial": {"97110"}}
    )
    p1 = card.filter(pl.col("provider_npi") == fx.P1).row(0, named=True)
    assert (p1["timed_units"], p1["documented_minutes"]) == (24, 200)
    assert p1["low_minutes"] and not p1["high_rate"]
    p2 = card.filter(pl.col("provider_npi") == fx.P2).row(0, named=True)
    assert p2["timed_units"] == 2  # 97530 is not timed in this mapping
    # fewer than 20 timed units is never flagged however few the minutes
    few = metrics.provider_scorecard(
        fx.claims_frame().head(3), fx.notes_frame().head(3), f, {"medicare": {"97110"}}
    )
    assert not few["low_minutes"].any()


def test_scorecard_counts_a_line_without_note_as_no_minutes() -> None:
    claims = fx.claims_frame().filter(pl.col("rendering_npi") == fx.P1)
    notes = fx.notes_frame().head(2)  # two of P1's four services documented (50 min each)
    card = metrics.provider_scorecard(
        claims, notes, fx.findings_frame().head(0), {"medicare": {"97110"}}
    )
    row = card.row(0, named=True)
    assert (row["timed_units"], row["documented_minutes"]) == (24, 100)
    assert row["minutes_per_unit"] == pytest.approx(100 / 24)
    assert row["lines_with_findings"] == 0 and row["findings_rate"] == 0


def test_real_run_with_hostile_file_and_note_text(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SAMPLE / "claims.csv", inputs / HOSTILE_FILE)
    notes = pl.read_csv(SAMPLE / "notes.csv", infer_schema=False).with_columns(
        pl.lit(f"<script>alert('note')</script> {BREAKOUT}").alias("note_text")
    )
    notes.write_csv(inputs / "notes.csv")
    out = run_audit(
        inputs / HOSTILE_FILE, inputs / "notes.csv", SAMPLE / "plans.csv", tmp_path / "o"
    )
    assert out.report_html is not None
    html = out.report_html.read_text(encoding="utf-8")
    assert "<img" not in html and "alert('note')" not in html and BREAKOUT not in html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html
    assert html.count("<script") == 2


def test_view_rejects_a_zero_limit() -> None:
    with pytest.raises(ValueError):
        fx.view(per_rule=0)


def test_a_clean_run_renders_without_findings() -> None:
    html = render_report(fx.view(findings=fx.findings_frame().clear()))
    assert "The audit found nothing to list." in html
    assert html.count('<p class="muted">No findings.</p>') == 3  # one per chart group
    assert 'data-metric="amount_at_risk" data-value="0.0">$0.00<' in html
