"""The one assembly path (checks/assemble.py): the claim count, the result around the findings
(every declared rule's status in catalogue order, lines and claims audited), and `audit` giving
what the runners' findings stage gives for the same rule results."""

from __future__ import annotations

import polars as pl
import pytest

from checks.assemble import assemble, assemble_result, audit, count_claims
from checks.engine import FINDINGS, NOT_APPLICABLE, RuleRun, run_rules
from checks.merge import RulesOutput
from checks.registry import all_rules
from flows.run.config import fee_schedule
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    PLAN_SCHEMA,
    claim,
    mue_table,
    note,
    plan,
    shipped_profiles,
)

PROFILES = shipped_profiles()


@pytest.mark.parametrize(
    "ids",
    [
        [],
        ["C1"],
        ["C1", "C1", "C2", "C3", "C3", "C3"],  # in order: runs of equal ids are counted
        ["C2", "C1", "C2"],  # out of order: hashed
        ["C1", None, "C1", None],  # nulls count as one claim id, as n_unique counts them
        [None, None],
    ],
)
def test_count_claims_is_n_unique(ids: list[str | None]) -> None:
    claims = pl.DataFrame({"claim_id": ids}, schema={"claim_id": pl.String})
    assert count_claims(claims) == (claims["claim_id"].n_unique() if ids else 0)


def exports() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    claims = [claim("C1", units=3, paid=90.0), claim("C1", 2), claim("C2", patient="P2")]
    notes = [note("N1", minutes=20, end="09:20")]
    plans = [plan(), plan("POC2", patient="P2")]
    return (
        pl.DataFrame(claims, schema=CLAIM_SCHEMA),
        pl.DataFrame(notes, schema=NOTE_SCHEMA),
        pl.DataFrame(plans, schema=PLAN_SCHEMA),
    )


def test_result_has_every_declared_rule_in_catalogue_order() -> None:
    claims, _, _ = exports()
    raw = pl.DataFrame(
        {"claim_id": ["C1"], "line_number": [1], "supported_units": [1], "excess_units": [2],
         "message": ["m"], "evidence": ["e"], "severity": ["error"], "rule_id": ["UNITS-8MIN"]}
    )  # fmt: skip
    providers = pl.DataFrame({"provider_npi": ["1"]})
    ran = {"UNITS-8MIN": RuleRun("UNITS-8MIN", FINDINGS, 1, ["medicare"])}
    results = RulesOutput(raw, ran, {"medicare": 3}, providers)
    result = assemble_result(claims, results, fee_schedule())
    assert list(result.runs) == list(all_rules())
    assert result.runs["UNITS-8MIN"] is ran["UNITS-8MIN"]
    assert {r.status for k, r in result.runs.items() if k != "UNITS-8MIN"} == {NOT_APPLICABLE}
    assert (result.lines_audited, result.claims_audited) == (3, 2)
    assert result.lines_by_profile == {"medicare": 3} and result.providers is providers
    assert result.findings["finding_id"].to_list() == ["UNITS-8MIN:C1:1"]
    assert result.findings["amount_at_risk"].to_list() == [60.0]
    # only the rules asked for
    some = {k: r for k, r in all_rules().items() if k.startswith("POC-")}
    assert list(assemble_result(claims, results, fee_schedule(), some).runs) == list(some)


def test_audit_is_one_pass_then_the_same_assembly() -> None:
    claims, notes, plans = exports()
    result = audit(
        claims, notes, plans, profiles=PROFILES, fee_schedule=fee_schedule(), mue=mue_table()
    )
    raw, runs, by_profile = run_rules(
        claims.lazy(), notes.lazy(), plans.lazy(), profiles=PROFILES, mue=mue_table()
    )
    assert result.findings.equals(assemble(raw, claims.lazy(), fee_schedule()))
    assert result.findings.height > 0
    assert {k: r.status for k, r in result.runs.items()} == {k: r.status for k, r in runs.items()}
    assert result.lines_by_profile == by_profile
    assert (result.lines_audited, result.claims_audited) == (3, 2)
