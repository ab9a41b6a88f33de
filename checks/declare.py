"""How a rule is declared: `@rule` around a pure function, its `Param`s and the rows it returns.

Every audit rule is declared once, in a family module of checks/rules/, and that declaration is
the single source of the report's rule catalogue, the profile validation and the engine's
dispatch. This module imports no rule, so any module may import it; checks/registry.py collects
the declarations.

Modelled on OHDSI DataQualityDashboard (checks declared as data, thresholds apart from logic) and
pandera's polars checks (a decorator around a pure function).
"""

from __future__ import annotations

import datetime as dt
import inspect
import math
import re
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
    """A rule parameter: a profile may override `default` under [rules."RULE-ID"].

    Its type is the default's: bool, int, float, date, text, a list of text or a table (text keys
    to numbers or to text). Its range is declared with it and checked where profiles load
    (checks/profile.py), so a profile value outside it is a configuration error, never a wrong
    audit: `minimum`/`maximum` bound numbers, dates and a table's numeric values (both are
    required for those); `choices` or `pattern` bound text, list items and a table's keys;
    `value_pattern` bounds a table's text values. Severities (names ending in "severity") take
    SEVERITIES. Every declared parameter must be bounded (`bounded`; a test holds every rule
    to it).
    """

    name: str
    default: Any
    description: str
    choices: tuple[Any, ...] | None = None
    minimum: Any = None
    maximum: Any = None
    pattern: str | None = None
    value_pattern: str | None = None

    @property
    def allowed(self) -> tuple[Any, ...] | None:
        return SEVERITIES if self.name.endswith("severity") else self.choices

    @property
    def bounded(self) -> bool:
        """True when the declaration states a range for every part of a value."""
        default = self.default
        ranged = self.minimum is not None and self.maximum is not None
        texts = self.allowed is not None or self.pattern is not None
        if isinstance(default, bool):
            return True
        if isinstance(default, int | float | dt.date):
            return ranged
        if isinstance(default, str | list | tuple):
            return texts
        if isinstance(default, dict):
            numeric = all(_is_number(v) for v in default.values())
            return texts and (ranged if numeric else self.value_pattern is not None)
        return False

    def range_text(self) -> str:
        """The declared range in words, for error messages."""
        if self.allowed is not None:
            return "one of " + ", ".join(str(c) for c in self.allowed)
        if self.pattern is not None:
            return f"text matching {self.pattern}"
        return f"between {self.minimum} and {self.maximum}"

    def problem(self, value: Any) -> str | None:
        """What is wrong with `value` as this parameter (None: nothing)."""
        default = self.default
        if isinstance(default, bool):
            return None if isinstance(value, bool) else "must be true or false"
        if isinstance(default, int | float):
            return self._number_problem(value, whole=isinstance(default, int))
        if isinstance(default, dt.date):
            if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
                return "must be a date (YYYY-MM-DD)"
            return self._range_problem(value)
        if isinstance(default, str):
            return self._text_problem(value, self.allowed, self.pattern)
        if isinstance(default, list | tuple):
            if not isinstance(value, list | tuple):
                return "must be a list"
            found = (self._text_problem(v, self.allowed, self.pattern) for v in value)
            return next((f"item {p}" for p in found if p), None)
        if isinstance(default, dict):
            return self._table_problem(value)
        return None

    def _number_problem(self, value: Any, whole: bool) -> str | None:
        if not _is_number(value):
            return f"must be a number between {self.minimum} and {self.maximum}"
        # inf, nan and 1e400 (a TOML float too large, read as inf) are never a threshold
        if not math.isfinite(value):
            return f"must be a finite number between {self.minimum} and {self.maximum}"
        if whole and value != int(value):
            return f"must be a whole number between {self.minimum} and {self.maximum}"
        return self._range_problem(value)

    def _range_problem(self, value: Any) -> str | None:
        ranged = self.minimum is not None and self.maximum is not None
        if ranged and not self.minimum <= value <= self.maximum:
            return f"must be between {self.minimum} and {self.maximum}"
        return None

    @staticmethod
    def _text_problem(
        value: Any, choices: tuple[Any, ...] | None, pattern: str | None
    ) -> str | None:
        if not isinstance(value, str):
            return "must be text"
        if choices is not None and value not in choices:
            return "must be one of " + ", ".join(str(c) for c in choices)
        if pattern is not None and re.fullmatch(pattern, value) is None:
            return f"must match {pattern}"
        return None

    def _table_problem(self, value: Any) -> str | None:
        if not isinstance(value, dict):
            return "must be a table"
        numeric = all(_is_number(v) for v in self.default.values())
        whole = all(isinstance(v, int) for v in self.default.values())
        for key, item in value.items():
            problem = self._text_problem(key, self.allowed, self.pattern)
            if problem:
                return f"key {problem}"
            if numeric:
                problem = self._number_problem(item, whole=whole)
            else:
                problem = self._text_problem(item, None, self.value_pattern)
            if problem:
                return f"value of {key} {problem}"
        return None


def any_case(words: tuple[str, ...]) -> str:
    """A `pattern` accepting exactly `words`, in any case (for parameters a rule case-folds)."""
    return "(?i)(?:" + "|".join(re.escape(w) for w in words) + ")"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
