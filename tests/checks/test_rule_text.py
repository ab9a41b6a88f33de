"""Each rule's text is for the officer: what it flags in plain words, a citation of the public
source with its year (and chapter and section for a CMS manual), no pointer into the program."""

from __future__ import annotations

import re

import pytest

from checks.declare import Rule
from checks.registry import all_rules
from tests.support.pointers import pointers

RULES = list(all_rules().values())
YEAR = re.compile(r"\b(?:19|20)\d{2}\b")


@pytest.mark.parametrize("rule", RULES, ids=[r.rule_id for r in RULES])
def test_rule_text_is_plain_and_cites_a_dated_public_source(rule: Rule) -> None:
    texts = [rule.title, rule.citation, rule.description, *(p.description for p in rule.params)]
    assert [p for t in texts for p in pointers(t)] == []
    assert rule.description.strip(), "the rule states what it flags"
    assert YEAR.search(rule.citation), f"{rule.rule_id}: the citation names no year"
    for pub in re.finditer(r"Pub\. 100-0\d[^;]*", rule.citation):
        if "Transmittal" not in pub.group(0):
            assert "Ch. " in pub.group(0) and "§" in pub.group(0), pub.group(0)


def test_pointers_are_found() -> None:
    """The scanner itself: each kind of pointer is caught, public citations are not."""
    bad = ["see billing-rules.md §3", "(checks/base.py)", "as in issue #15", "flows/run/x"]
    assert all(pointers(t) for t in bad)
    good = ["CMS Pub. 100-02 (2024), Ch. 15 §220.3", "BBA 2018 §53107", "findings.csv"]
    assert not any(pointers(t) for t in good)
