"""summary.json: counts per rule and severity, lines audited, lines with findings and money.

Money is not double counted: a line flagged by several rules is at risk for the largest of its
amounts (a line cannot be taken back twice), so totals are sums over lines of that maximum.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.engine import AuditResult
from checks.registry import SEVERITIES, Rule


def _line_money(findings: pl.DataFrame) -> pl.DataFrame:
    return findings.group_by("claim_id", "line_number").agg(
        pl.col("amount_at_risk").max().alias("amount")
    )


def _money(value: float) -> float:
    return round(float(value), 2)


def build_summary(result: AuditResult, rules: dict[str, Rule]) -> dict[str, Any]:
    f = result.findings
    by_rule: dict[str, Any] = {}
    for rule_id, rule in rules.items():
        run = result.runs[rule_id]
        sub = f.filter(pl.col("rule_id") == rule_id)
        by_rule[rule_id] = {
            "title": rule.title,
            "family": rule.family,
            "status": run.status,
            "error": run.error,
            "profiles": sorted(run.profiles),
            "findings": sub.height,
            "lines": sub.select("claim_id", "line_number").n_unique() if sub.height else 0,
            "amount_at_risk": _money(sub["amount_at_risk"].sum()),
            "by_severity": {sev: int((sub["severity"] == sev).sum()) for sev in SEVERITIES},
        }
    by_severity: dict[str, Any] = {}
    for sev in SEVERITIES:
        sub = f.filter(pl.col("severity") == sev)
        by_severity[sev] = {
            "findings": sub.height,
            "lines": sub.select("claim_id", "line_number").n_unique() if sub.height else 0,
            "amount_at_risk": _money(_line_money(sub)["amount"].sum()) if sub.height else 0.0,
        }
    lines_with = f.select("claim_id", "line_number").n_unique() if f.height else 0
    return {
        "lines_audited": result.lines_audited,
        "claims_audited": result.claims_audited,
        "lines_by_profile": dict(sorted(result.lines_by_profile.items())),
        "findings": f.height,
        "lines_with_findings": lines_with,
        "line_error_rate": round(lines_with / result.lines_audited, 6)
        if result.lines_audited
        else 0.0,
        "amount_at_risk": _money(_line_money(f)["amount"].sum()) if f.height else 0.0,
        "by_severity": by_severity,
        "by_rule": by_rule,
    }
