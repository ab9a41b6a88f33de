"""summary.json: counts per rule and severity, lines audited, lines with findings and money.

Money is not double counted: a line flagged by several rules is at risk for the largest of its
amounts (a line cannot be taken back twice), so totals are sums over lines of that maximum.
`line_totals` is that rule, the one definition that the history's run totals and the reviewer
dispositions' money use as well.

Every figure comes from a few group_bys over an integer line key, collected together, rather
than a filter and a string n_unique per rule and per severity. The key is a dense rank, cheap on
findings in FINDINGS_ORDER. Sums are added in another order than one Series.sum
per rule would, which changes nothing once rounded to cents: amounts are whole cents, and the
order moves a sum by far less than half a cent.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.declare import ACTIONS, SEVERITIES, Rule
from checks.engine import AuditResult
from checks.period import Period

# A line (claim_id, line_number) as one integer: distinct lines are distinct ranks.
LINE = pl.struct("claim_id", "line_number").rank("dense").alias("_line")
AMOUNT = pl.col("amount_at_risk")


def money(value: float | None) -> float:
    """An amount as summary.json shows it: dollars rounded to cents (none is 0.0)."""
    return round(float(value or 0.0), 2)


def line_totals(findings: pl.LazyFrame, *by: str) -> pl.LazyFrame:
    """Findings, lines and money per group of `by` (one row overall without `by`): each line
    (claim_id, line_number) counted once, at its largest amount_at_risk in the group.

    Columns: *by, findings, lines, amount (unrounded; see `money`). `findings` needs
    amount_at_risk and either claim_id and line_number or the line key `_line` (LINE)."""
    if "_line" not in findings.collect_schema().names():
        findings = findings.with_columns(LINE)
    per_line = findings.group_by(*by, "_line").agg(
        pl.len().alias("findings"), AMOUNT.max().alias("amount")
    )
    totals = (pl.col("findings").sum(), pl.len().alias("lines"), pl.col("amount").sum())
    return per_line.group_by(*by).agg(*totals) if by else per_line.select(*totals)


def _frames(
    f: pl.DataFrame, rules: dict[str, Rule]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(per rule, per severity, overall, per recommended action) counts and money."""
    lf = f.select("rule_id", "severity", AMOUNT, LINE).lazy()  # the line key is ranked once
    per_rule = lf.group_by("rule_id").agg(
        pl.len().alias("findings"),
        pl.col("_line").n_unique().alias("lines"),
        AMOUNT.sum().alias("amount"),
        *((pl.col("severity") == sev).sum().alias(sev) for sev in SEVERITIES),
    )
    per_severity = line_totals(lf, "severity")
    overall = line_totals(lf)
    action_of = {rule_id: rule.action for rule_id, rule in rules.items()}
    action = pl.col("rule_id").replace_strict(action_of, default="", return_dtype=pl.String)
    per_action = line_totals(lf.with_columns(action.alias("action")), "action")
    rule_frame, severity_frame, overall_frame, action_frame = pl.collect_all(
        [per_rule, per_severity, overall, per_action]
    )
    return rule_frame, severity_frame, overall_frame, action_frame


def build_summary(result: AuditResult, rules: dict[str, Rule]) -> dict[str, Any]:
    f = result.findings
    per_rule, per_severity, overall, per_action = _frames(f, rules)
    rule_rows = {r["rule_id"]: r for r in per_rule.iter_rows(named=True)}
    sev_rows = {r["severity"]: r for r in per_severity.iter_rows(named=True)}
    by_rule: dict[str, Any] = {}
    for rule_id, rule in rules.items():
        run = result.runs[rule_id]
        row = rule_rows.get(rule_id, {})
        by_rule[rule_id] = {
            "title": rule.title,
            "family": rule.family,
            "status": run.status,
            "error": run.error,
            # why the rule is "not applicable" (a missing optional input, say); else null
            "reason": run.reason,
            # what the officer does about its findings (checks.declare.ACTIONS)
            "action": rule.action,
            "action_label": ACTIONS.get(rule.action, ""),
            "profiles": sorted(run.profiles),
            "findings": row.get("findings", 0),
            "lines": row.get("lines", 0),
            "amount_at_risk": money(row.get("amount")),
            "by_severity": {sev: row.get(sev, 0) for sev in SEVERITIES},
        }
    by_severity: dict[str, Any] = {}
    for sev in SEVERITIES:
        row = sev_rows.get(sev, {})
        by_severity[sev] = {
            "findings": row.get("findings", 0),
            "lines": row.get("lines", 0),
            "amount_at_risk": money(row.get("amount")),
        }
    action_rows = {r["action"]: r for r in per_action.iter_rows(named=True)}
    # a line flagged under two actions counts under each, once per action at its largest amount
    by_action = {
        action: {
            "label": label,
            "rules": sorted(r for r, rule in rules.items() if rule.action == action),
            "findings": action_rows.get(action, {}).get("findings", 0),
            "lines": action_rows.get(action, {}).get("lines", 0),
            "amount_at_risk": money(action_rows.get(action, {}).get("amount")),
        }
        for action, label in ACTIONS.items()
    }
    lines_with = overall["lines"].item()
    return {
        "lines_audited": result.lines_audited,
        "claims_audited": result.claims_audited,
        "lines_by_profile": dict(sorted(result.lines_by_profile.items())),
        "findings": f.height,
        "lines_with_findings": lines_with,
        "line_error_rate": round(lines_with / result.lines_audited, 6)
        if result.lines_audited
        else 0.0,
        "amount_at_risk": money(overall["amount"].item()),
        "by_severity": by_severity,
        "by_action": by_action,
        "by_rule": by_rule,
    }


def period_summary(period: Period, lines_audited: int, lines_outside: int) -> dict[str, Any]:
    """summary.json's `period`: the audit period and the accepted claim lines inside it (the
    lines audited) and outside it (counted, not audited; checks/period.py)."""
    return {
        "start": period[0].isoformat(),
        "end": period[1].isoformat(),
        "lines_audited": lines_audited,
        "lines_outside_period": lines_outside,
    }
