"""report.html and findings.xlsx say why a rule is "not applicable" (summary.json's `reason`),
and the methodology appendix states every rule, its public citation and the optional inputs it
needs, from the declarations."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from markupsafe import escape

from checks.registry import all_rules
from flows.outputs.xlsx.workbook import write_xlsx
from flows.run.config import default_profiles
from reports.catalogue import catalogue, need_text
from reports.render import render_report
from tests.reports.test_report import Numbers
from tests.support import report_fixture as fx

REASON = "the notes have no note_type values"
# the rules of the documentation issue: each stated in the appendix with its citation
NEW_RULES = (
    "ADDON-NO-PRIMARY",
    "MOD-THERAPY-MISSING",
    "KX-MISSING",
    "DOC-NOTE-UNSIGNED",
    "ASSISTANT-MOD-MISSING",
    "PROGRESS-REPORT-LATE",
    "TIME-PSYCHOTHERAPY",
)


def _summary_with_reason() -> dict[str, object]:
    summary = fx.summary()
    summary["by_rule"]["UNITS-MUE"]["reason"] = REASON  # type: ignore[index]
    return summary


def test_rule_table_shows_the_reason_of_a_rule_not_applicable() -> None:
    page = Numbers()
    page.feed(render_report(fx.view(summary=_summary_with_reason())))
    assert page.cells[("UNITS-MUE", "status")][1] == "not applicable"
    assert page.cells[("UNITS-MUE", "reason")][1] == REASON
    # a rule that ran has no reason to give
    assert ("UNITS-8MIN", "reason") not in page.cells


def test_rule_table_shows_no_reason_when_the_summary_has_none() -> None:
    html = render_report(fx.view())
    assert 'data-field="reason"' not in html


def test_workbook_summary_lists_each_rules_reason(tmp_path: Path) -> None:
    f = fx.findings_frame()
    path = write_xlsx(f, _summary_with_reason(), fx.RUN, tmp_path / "findings.xlsx")
    cells = pl.read_excel(path, sheet_name="summary", has_header=False, infer_schema_length=0)
    header = next(r for r in cells.iter_rows() if r[0] == "Rule")
    assert header[9] == "Reason"
    mue = next(r for r in cells.iter_rows() if r[0] == "UNITS-MUE")
    assert (mue[3], mue[9]) == ("not applicable", REASON)
    ran = next(r for r in cells.iter_rows() if r[0] == "UNITS-8MIN")
    assert ran[9] in (None, "")


@pytest.mark.parametrize(
    ("token", "words"),
    [
        ("providers", "the providers export"),
        ("notes.note_type", "the notes' note_type column"),
        ("claims.allowed_amount", "the claim lines' allowed_amount column"),
        ("reference.thresholds", "the thresholds reference table"),
    ],
)
def test_need_in_words(token: str, words: str) -> None:
    assert need_text(token) == words


def test_methodology_states_the_new_rules_with_their_citations_and_needs() -> None:
    rules = all_rules()
    html = render_report(fx.view(catalogue=catalogue(rules, default_profiles())))
    for rule_id in NEW_RULES:
        rule = rules[rule_id]
        start = html.index(f'<article class="rule-entry" id="rule-{rule_id}">')
        entry = html[start : html.index("</article>", start)]
        assert str(escape(rule.title)) in entry, rule_id
        assert str(escape(rule.citation)) in entry, rule_id
        # a public manual, never a file of this repository
        assert "Pub." in rule.citation or "CPT" in rule.citation or "§" in rule.citation
        for token in rule.needs:
            assert f"Runs only with {escape(need_text(token))}" in entry, (rule_id, token)
        if not rule.needs:
            assert "Runs only with" not in entry, rule_id
