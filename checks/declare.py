"""How a rule is declared: `@rule` around a pure function, its `Param`s and the rows it returns.

Every audit rule is declared once, in a family module of checks/rules/, and that declaration is
the single source of the report's rule catalogue, the profile validation and the engine's
dispatch. This module imports no rule, so any module may import it; checks/registry.py collects
the declarations.

Modelled on OHDSI DataQualityDashboard (checks declared as data, thresholds apart from logic) and
pandera's polars checks (a decorator around a pure function).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

SEVERITIES = ("error", "warning", "info")
# What an officer does about a finding: a closed vocabulary, id -> label. Each rule declares one;
# the report, summary.json and the workbook show it and total the findings by it.
ACTIONS = {
    "refund": "Refund or void the line",
    "correct": "Submit a corrected claim",
    "sign": "Obtain the certification signature",
    "educate": "Educate the provider",
    "review": "Review the records",
}

# What a rule function returns, one row per finding per affected claim line. The engine
# (checks/engine.py) adds the claim line's own columns, money, finding_id and the final order.
RULE_OUTPUT_SCHEMA = pl.Schema(
    {
        "claim_id": pl.String(),
        "line_number": pl.Int64(),
        # units the documentation supports for this line; null for whole-line findings
        "supported_units": pl.Int64(),
        # units the line billed beyond support; null for whole-line findings (amount = line paid)
        "excess_units": pl.Int64(),
        "message": pl.String(),
        "evidence": pl.String(),
    }
)
# A rule may add this column to set severity per finding (e.g. TIME-MISSING by code class);
# otherwise the profile's severity for the rule applies.
SEVERITY_COLUMN = "severity"
# A rule may add this column (Float64, 0-1) to put only a share of a whole-line finding's paid
# amount at risk (e.g. the 15 % assistant reduction); null or absent: the whole line.
RISK_SHARE_COLUMN = "risk_share"
# Optional inputs a rule may declare in `needs`: an optional export (the providers export; the
# notes or the plans, which a claims-only audit leaves out), or a column of an export
# ("notes.note_type"). A rule whose needs are not met is "not applicable" (checks/needs.py).
NEEDS_EXPORTS = ("claims", "notes", "plans")
PROVIDERS = "providers"
NEEDED_EXPORTS = (PROVIDERS, "notes", "plans")


def check_need(token: str) -> None:
    """A `needs` token is "providers", "notes" or "plans" (the export given), "<export>.<column>"
    of claims, notes or plans, or "reference.<table>" (a field of checks.reference.Reference)."""
    export, _, column = token.partition(".")
    if token not in NEEDED_EXPORTS and (export not in (*NEEDS_EXPORTS, "reference") or not column):
        raise ValueError(
            f"unknown need {token!r}: use 'providers', 'notes', 'plans', '<export>.<column>' or "
            "'reference.<table>'"
        )


@dataclass(frozen=True)
class Param:
    """A rule parameter: a profile may override `default` under [rules."RULE-ID"]."""

    name: str
    default: Any
    description: str
    # the values a profile may choose from (None: any value of the default's type); numbers are
    # never negative and whole when the default is an integer, severities are SEVERITIES
    choices: tuple[Any, ...] | None = None


@dataclass(frozen=True)
class Rule:
    rule_id: str
    family: str
    title: str
    severity: str
    citation: str
    params: tuple[Param, ...]
    func: Callable[..., pl.LazyFrame]
    # True when the rule needs other patients' or providers' data (partitioning by patient
    # alone would miss findings).
    provider_scope: bool = False
    # code classes (checks.base.code_class) a rule can flag; None: any billed line. With no such
    # line in scope the rule is "not applicable" rather than "passed".
    applies_to: tuple[str, ...] | None = None
    description: str = field(default="")
    # optional inputs the rule reads (check_need tokens); without them it is "not applicable"
    needs: tuple[str, ...] = ()
    # the recommended action, a key of ACTIONS ("" only for rules declared outside checks/rules)
    action: str = ""

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str,
    *,
    title: str,
    severity: str,
    citation: str,
    params: tuple[Param, ...] = (),
    provider_scope: bool = False,
    applies_to: tuple[str, ...] | None = None,
    needs: tuple[str, ...] = (),
    action: str = "",
) -> Callable[[Callable[..., pl.LazyFrame]], Callable[..., pl.LazyFrame]]:
    """Declare an audit rule. The decorated function is `f(data: AuditData, **params) -> LazyFrame`
    with RULE_OUTPUT_SCHEMA columns; its docstring is the rule text shown in the report. Its
    family is the name of the module it is declared in, and its id begins with that family's
    prefix (checks/registry.py holds every family to one prefix). `needs`: the optional inputs
    it reads ("providers", "notes.signed_at", ...); the engine runs it only when they are there.
    `action`: what the officer does about a finding, a key of ACTIONS.
    """

    if severity not in SEVERITIES:
        raise ValueError(f"{rule_id}: severity {severity!r} is not one of {SEVERITIES}")
    for token in needs:
        check_need(token)
    if action and action not in ACTIONS:
        raise ValueError(f"{rule_id}: action {action!r} is not one of {tuple(ACTIONS)}")

    def register(func: Callable[..., pl.LazyFrame]) -> Callable[..., pl.LazyFrame]:
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} is declared twice")
        declared = {p.name for p in params}
        accepted = {
            name
            for name, p in inspect.signature(func).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        }
        if declared != accepted:
            raise ValueError(
                f"{rule_id}: declared parameters {sorted(declared)} differ from the function's "
                f"keyword-only parameters {sorted(accepted)}"
            )
        RULES[rule_id] = Rule(
            rule_id=rule_id,
            family=func.__module__.rsplit(".", 1)[-1],
            title=title,
            severity=severity,
            citation=citation,
            params=params,
            func=func,
            provider_scope=provider_scope,
            applies_to=applies_to,
            description=inspect.cleandoc(func.__doc__ or ""),
            needs=tuple(needs),
            action=action,
        )
        return func

    return register
