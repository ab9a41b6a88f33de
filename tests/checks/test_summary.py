"""summary.json's figures (checks/summary.py), computed the fast way, against the plain per-rule
and per-severity definitions; the one "each line once, at its largest amount" rule."""

from __future__ import annotations

import json
from typing import Any

import polars as pl
import pytest

from checks.declare import ACTIONS, SEVERITIES, Rule
from checks.engine import AuditResult, RuleRun
from checks.summary import build_summary, line_totals, money
from schemas.findings import FINDINGS_SCHEMA
from tests.support import report_fixture as fx

LINE = ["claim_id", "line_number"]


def by_definition(result: AuditResult, rules: dict[str, Rule]) -> dict[str, Any]:
    """Every figure straight from its definition: a filter per rule and per severity."""
    f = result.findings

    def money(sub: pl.DataFrame) -> float:
        per_line = sub.group_by(LINE).agg(pl.col("amount_at_risk").max())
        return round(float(per_line["amount_at_risk"].sum()), 2) if sub.height else 0.0

    def lines(sub: pl.DataFrame) -> int:
        return sub.select(LINE).n_unique() if sub.height else 0

    by_rule = {}
    for rule_id, rule in rules.items():
        run, sub = result.runs[rule_id], f.filter(pl.col("rule_id") == rule_id)
        by_rule[rule_id] = {
            "title": rule.title, "family": rule.family, "status": run.status,
            "error": run.error, "reason": run.reason, "action": rule.action,
            "action_label": ACTIONS[rule.action], "profiles": sorted(run.profiles),
            "findings": sub.height,
            "lines": lines(sub), "amount_at_risk": round(float(sub["amount_at_risk"].sum()), 2),
            "by_severity": {s: int((sub["severity"] == s).sum()) for s in SEVERITIES},
        }  # fmt: skip
    by_severity = {}
    for sev in SEVERITIES:
        sub = f.filter(pl.col("severity") == sev)
        by_severity[sev] = {
            "findings": sub.height,
            "lines": lines(sub),
            "amount_at_risk": money(sub),
        }
    by_action = {}
    for action, label in ACTIONS.items():
        ids = sorted(r for r, rule in rules.items() if rule.action == action)
        sub = f.filter(pl.col("rule_id").is_in(ids))
        by_action[action] = {
            "label": label,
            "rules": ids,
            "findings": sub.height,
            "lines": lines(sub),
            "amount_at_risk": money(sub),
        }
    return {
        "lines_audited": result.lines_audited,
        "claims_audited": result.claims_audited,
        "lines_by_profile": dict(sorted(result.lines_by_profile.items())),
        "findings": f.height,
        "lines_with_findings": lines(f),
        "line_error_rate": round(lines(f) / result.lines_audited, 6)
        if result.lines_audited
        else 0.0,
        "amount_at_risk": money(f),
        "by_severity": by_severity,
        "by_action": by_action,
        "by_rule": by_rule,
    }


def odd_findings() -> pl.DataFrame:
    """The fixture with a null and an unknown severity, a rule outside the catalogue, null
    amounts and a line flagged twice by one rule."""
    f = pl.concat([fx.findings_frame(), fx.findings_frame().head(3)])
    i = pl.int_range(pl.len())
    return f.with_columns(
        pl.when(i == 0).then(None).when(i == 1).then(pl.lit("fatal")).otherwise("severity")
        .alias("severity"),
        pl.when(i % 4 == 0).then(None).otherwise("amount_at_risk").alias("amount_at_risk"),
        pl.when(i == 2).then(pl.lit("NOPE-RULE")).otherwise("rule_id").alias("rule_id"),
    )  # fmt: skip


@pytest.mark.parametrize(
    "findings",
    [
        fx.findings_frame(),
        fx.findings_frame().reverse(),  # not in FINDINGS_ORDER
        odd_findings(),
        fx.findings_frame().with_columns(pl.lit(None, pl.Float64).alias("amount_at_risk")),
        pl.DataFrame(schema=FINDINGS_SCHEMA),
    ],
    ids=["fixture", "reversed", "odd", "no-amounts", "empty"],
)
def test_summary_matches_the_definitions(findings: pl.DataFrame) -> None:
    result = AuditResult(findings, fx.runs(), 40, 25, {"medicare": 25, "commercial": 15})
    got = build_summary(result, fx.RULES)
    assert json.dumps(got, indent=2) == json.dumps(by_definition(result, fx.RULES), indent=2)


def test_summary_of_a_lot_of_cents_is_exact() -> None:
    """Sums in another order than per-rule Series.sum: still the same cents."""
    n = 200_000
    i = pl.int_range(n, eager=True)
    f = pl.select(
        pl.format("R-{}", i % 3).alias("rule_id"),
        pl.when(i % 5 == 0).then(pl.lit("warning")).otherwise(pl.lit("error")).alias("severity"),
        pl.format("C{}", i // 2).alias("claim_id"),
        (i % 2 + 1).cast(pl.Int64).alias("line_number"),
        ((i * 7919) % 100_003 / 100).alias("amount_at_risk"),
    ).sample(fraction=1.0, shuffle=True, seed=3)
    rules = {f"R-{k}": fx.make_rule(f"R-{k}", "x", "t") for k in range(3)}
    runs = {r: RuleRun(r, "findings", 1, ["medicare"]) for r in rules}
    result = AuditResult(f, runs, n, n // 2, {})
    assert build_summary(result, rules) == by_definition(result, rules)


def test_line_totals_count_each_line_once_at_its_largest_amount() -> None:
    f = pl.DataFrame(
        {"claim_id": ["C1", "C1", "C1", "C2", "C2"], "line_number": [1, 1, 2, 1, 1],
         "severity": ["error", "warning", "error", "error", "error"],
         "amount_at_risk": [10.0, 30.0, 5.0, None, 2.5]}
    )  # fmt: skip
    overall = line_totals(f.lazy()).collect()
    assert overall.rows(named=True) == [{"findings": 5, "lines": 3, "amount": 37.5}]
    by = line_totals(f.lazy(), "severity").collect().sort("severity")
    assert by.rows() == [("error", 4, 3, 17.5), ("warning", 1, 1, 30.0)]
    empty = line_totals(f.clear().lazy()).collect()
    assert empty.rows() == [(0, 0, 0.0)]


@pytest.mark.parametrize(
    ("value", "shown"), [(None, 0.0), (12.344, 12.34), (12.346, 12.35), (3, 3.0)]
)
def test_money_is_rounded_to_cents(value: float | None, shown: float) -> None:
    assert money(value) == shown
