"""Recommended actions: every rule declares one from the closed vocabulary, and the report,
summary.json and the workbook show it on the rule, on each finding and as totals by action."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from checks.declare import ACTIONS, rule
from checks.registry import all_rules
from reports.render import render_report
from tests.support import report_fixture as fx


def test_every_rule_declares_an_action_of_the_vocabulary() -> None:
    missing = [r.rule_id for r in all_rules().values() if r.action not in ACTIONS]
    assert missing == []


def test_an_action_outside_the_vocabulary_is_refused() -> None:
    with pytest.raises(ValueError, match="action 'apologise'"):
        rule("ZZ-NOPE", title="t", severity="error", citation="c", action="apologise")


def test_summary_totals_by_action_count_each_line_once_per_action() -> None:
    summary = fx.summary()
    by_action = summary["by_action"]
    assert list(by_action) == list(ACTIONS)
    f = fx.findings_frame()
    for action, row in by_action.items():
        ids = [r for r, x in fx.RULES.items() if x.action == action]
        sub = f.filter(pl.col("rule_id").is_in(ids))
        per_line = sub.group_by("claim_id", "line_number").agg(pl.col("amount_at_risk").max())
        assert row["rules"] == sorted(ids)
        assert row["findings"] == sub.height
        assert row["lines"] == per_line.height
        assert row["amount_at_risk"] == round(float(per_line["amount_at_risk"].sum() or 0), 2)
    assert summary["by_rule"]["DOC-NO-NOTE"]["action"] == "review"
    assert summary["by_rule"]["DOC-NO-NOTE"]["action_label"] == ACTIONS["review"]


def test_report_shows_the_action_on_the_rule_the_findings_and_in_the_summary() -> None:
    html = render_report(fx.view())
    table = re.search(r'<table class="data compact" id="action-table">.*?</table>', html, re.S)
    assert table is not None
    # the actions some rule declares, each once; "educate" and "correct" are no fixture rule's
    assert re.findall(r'<tr data-action="([a-z]+)">', table.group(0)) == [
        "refund",
        "sign",
        "review",
    ]
    rules_table = html.split('id="rule-table"', 1)[1].split("</table>", 1)[0]
    assert f"Recommended action: <strong>{ACTIONS['sign']}</strong>" in rules_table
    methodology = html.split('id="methodology"', 1)[1]
    assert 'id="rule-DOC-NO-NOTE"' in methodology
    entry = methodology.split('id="rule-DOC-NO-NOTE"', 1)[1].split("</article>", 1)[0]
    assert ACTIONS["review"] in entry
    data = json.loads(html.split('id="findings-data">', 1)[1].split("</script>", 1)[0])
    assert data["actions"]["UNITS-8MIN"] == ACTIONS["refund"]
