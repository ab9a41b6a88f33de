"""The rule catalogue is complete: every rule the registry discovers has the metadata the report
shows and a truth table with flagging, clean, blank-value and boundary cases, and every truth-table
case names a declared rule; profiles only name declared rules and parameters. The rules are taken
from the registry, so adding one touches no list here (README's rule table is held to the same ids
by tests/test_docs.py)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tests.checks.rules
from checks.declare import SEVERITIES
from checks.profile import ProfileError, build_profile
from checks.registry import all_rules
from tests.support.paths import SAMPLE_ARGS
from tests.support.rulekit import KINDS, Case

RULE_IDS = sorted(all_rules())


def truth_tables() -> list[Case]:
    cases: list[Case] = []
    for info in pkgutil.iter_modules(tests.checks.rules.__path__):
        if info.name.startswith("test_"):
            module = importlib.import_module(f"tests.checks.rules.{info.name}")
            cases.extend(getattr(module, "CASES", []))
    return cases


def test_every_truth_table_case_names_a_declared_rule() -> None:
    undeclared = {c.rule_id for c in truth_tables()} - set(RULE_IDS)
    assert RULE_IDS and not undeclared, f"cases for rules the registry does not know: {undeclared}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_declaration_is_complete(rule_id: str) -> None:
    rule = all_rules()[rule_id]
    assert rule.title and rule.citation and rule.family
    assert rule.description, f"{rule_id} has no docstring (it is the rule text in the report)"
    assert rule.severity in SEVERITIES
    for param in rule.params:
        assert param.description, f"{rule_id}.{param.name} is not described"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_has_a_full_truth_table(rule_id: str) -> None:
    kinds = {c.kind for c in truth_tables() if c.rule_id == rule_id}
    assert kinds == set(KINDS), f"{rule_id} lacks {set(KINDS) - kinds} cases"
    for case in truth_tables():
        if case.rule_id == rule_id:
            assert case.source, f"{case.id} cites no rule text"


def test_truth_table_case_ids_are_unique() -> None:
    ids = [c.id for c in truth_tables()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"profile": {"name": "x"}, "rules": {"UNITS-8MN": {}}}, "unknown rule id 'UNITS-8MIN'"),
        ({"profile": {"name": "x"}, "rules": {"UNITS-8MIN": {"methd": "cms"}}}, "methd"),
        ({"profile": {"name": "x"}, "codes": {"timd": []}}, "codes.timd"),
        ({"profile": {"name": "x", "colour": 1}}, "profile.colour"),
        ({"profile": {"name": "x"}, "extra": {}}, "'extra'"),
        ({"profile": {"name": "x"}, "rules": {"UNITS-8MIN": {"unit_minutes": "15"}}}, "a number"),
        ({"profile": {"name": "x"}, "rules": {"DOC-NO-NOTE": {"severity": "fatal"}}}, "severity"),
        # found in review: a wrong structure or value must be a named error, not a traceback or
        # a silently wrong audit
        ({"profile": 5}, "'profile' must be a table"),
        ({"profile": {"name": "x"}, "rules": {"UNITS-8MIN": 5}}, "must be a table"),
        ({"profile": {"name": "x"}, "codes": []}, "'codes' must be a table"),
        (
            {"profile": {"name": "x"}, "rules": {"TIME-MISSING": {"timed_severity": "fatal"}}},
            "timed_severity must be one of error, warning, info",
        ),
        ({"profile": {"name": "x"}, "rules": {"UNITS-8MIN": {"method": "cmss"}}}, "cms, ama"),
        ({"profile": {"name": "x"}, "rules": {"OVERLAP-DAY-CAP": {"cap_minutes": -1}}}, "1 and"),
        ({"profile": {"name": "x"}, "rules": {"POC-EXPIRED": {"max_cert_days": 90.5}}}, "whole"),
    ],
)
def test_profile_errors_name_the_key_and_file(raw: dict, message: str) -> None:
    with pytest.raises(ProfileError) as err:
        build_profile(raw, "my-profile.toml", all_rules())
    text = str(err.value)
    assert "my-profile.toml" in text
    assert message.replace("UNITS-8MIN", "UNITS-8MN") in text


def test_a_profile_file_that_is_not_text_is_one_error_line(tmp_path, capsys) -> None:
    from flows.cli.main import main

    binary = tmp_path / "bin.toml"
    binary.write_bytes(bytes(range(128, 256)))
    args = ["run", *SAMPLE_ARGS]
    assert main([*args, "--out", str(tmp_path / "o"), "--profile", str(binary)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not UTF-8" in err[0]
