"""Payer profiles: which codes are what, and every rule's parameters, for one payer type.

Pure: `build_profile` validates an already-parsed TOML document (flows/run/config.py reads the
file).
Thresholds live in profiles, never as literals in a rule; an unknown key is an error naming the
key and the file, so a typo cannot silently fall back to a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checks.base import CodeSets
from checks.declare import SEVERITIES, Param, Rule

PROFILE_KEYS = {"name", "title", "payer_types", "source"}
CODE_KEYS = {"timed", "untimed", "per_session", "one_on_one", "evaluation", "discipline"}
RULE_SETTING_KEYS = {"enabled", "severity"}
TOP_KEYS = {"profile", "codes", "rules"}


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the key and the file."""


@dataclass(frozen=True)
class RuleSettings:
    enabled: bool
    severity: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    payer_types: tuple[str, ...]
    source: str
    codes: CodeSets
    rules: dict[str, RuleSettings] = field(default_factory=dict)


def _code_list(raw: Any, key: str, source: str) -> frozenset[str]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise ProfileError(f"profile {source}: codes.{key} must be a list of code strings")
    return frozenset(c.strip().upper() for c in raw)


def _table(value: Any, where: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ProfileError(f"profile {source}: '{where}' must be a table")
    return value


def _check_param(param: Param, value: Any, where: str, source: str) -> None:
    """Type and declared range of one parameter value (a bad threshold must never pass
    silently: the audit's findings would be wrong, not merely different)."""
    problem = param.problem(value)
    if problem is not None:
        raise ProfileError(f"profile {source}: {where} {problem}, got {value!r}")


def build_profile(raw: dict[str, Any], source: str, rules: dict[str, Rule]) -> Profile:
    """Validate a parsed profile document against the rule declarations."""
    raw = _table(raw, "the document", source)
    for key in raw:
        if key not in TOP_KEYS:
            raise ProfileError(f"unknown key '{key}' in profile {source}")
    head = _table(raw.get("profile", {}), "profile", source)
    for key in head:
        if key not in PROFILE_KEYS:
            raise ProfileError(f"unknown key 'profile.{key}' in profile {source}")
    if "name" not in head:
        raise ProfileError(f"profile {source} has no profile.name")

    code_raw = _table(raw.get("codes", {}), "codes", source)
    for key in code_raw:
        if key not in CODE_KEYS:
            raise ProfileError(f"unknown key 'codes.{key}' in profile {source}")
    discipline = code_raw.get("discipline", {})
    if not isinstance(discipline, dict):
        raise ProfileError(f"profile {source}: codes.discipline must be a table code = discipline")
    codes = CodeSets(
        **{k: _code_list(code_raw.get(k, []), k, source) for k in CODE_KEYS - {"discipline"}},
        discipline={str(k).upper(): str(v).upper() for k, v in discipline.items()},
    )

    rule_raw = _table(raw.get("rules", {}), "rules", source)
    settings: dict[str, RuleSettings] = {}
    for rule_id in rule_raw:
        if rule_id not in rules:
            raise ProfileError(f"unknown rule id '{rule_id}' in profile {source}")
    for rule_id, declared in rules.items():
        given = dict(_table(rule_raw.get(rule_id, {}), f"rules.{rule_id}", source))
        defaults = declared.defaults()
        params = {p.name: p for p in declared.params}
        for key, value in given.items():
            where = f"rules.{rule_id}.{key}"
            if key not in defaults and key not in RULE_SETTING_KEYS:
                raise ProfileError(f"unknown key '{where}' in profile {source}")
            if key in params:
                _check_param(params[key], value, where, source)
        severity = given.pop("severity", declared.severity)
        if severity not in SEVERITIES:
            raise ProfileError(
                f"profile {source}: rules.{rule_id}.severity must be one of {SEVERITIES}"
            )
        enabled = given.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ProfileError(f"profile {source}: rules.{rule_id}.enabled must be true or false")
        settings[rule_id] = RuleSettings(enabled, severity, {**defaults, **given})

    payer_types = head.get("payer_types", [])
    return Profile(
        name=str(head["name"]),
        title=str(head.get("title", head["name"])),
        payer_types=tuple(str(p).lower() for p in payer_types),
        source=str(head.get("source", "")),
        codes=codes,
        rules=settings,
    )
