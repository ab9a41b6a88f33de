"""The rule catalogue as plain data: what the report's rule table and methodology appendix show,
taken from the rule declarations (checks/registry.py) and the profiles in use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.declare import Rule
from checks.profile import Profile


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return str(value)


_EXPORT_NOUN = {"claims": "claim lines", "notes": "notes", "plans": "plans"}


def need_text(token: str) -> str:
    """A rule's `needs` token (checks/declare.py) in words: "providers" -> "the providers
    export", "notes.note_type" -> "the notes' note_type column", "reference.thresholds" ->
    "the thresholds reference table"."""
    if token in ("providers", "notes", "plans"):
        return f"the {token} export"
    export, _, column = token.partition(".")
    if export == "reference":
        return f"the {column} reference table"
    return f"the {_EXPORT_NOUN.get(export, export)}' {column} column"


def catalogue(rules: Mapping[str, Rule], profiles: Mapping[str, Profile]) -> list[dict[str, Any]]:
    """One entry per declared rule, in rule-id order: id, family, title, default severity,
    citation, rule text (the function's docstring), and every parameter with its default and the
    value each profile uses; plus each profile's severity and whether it runs the rule."""
    names = sorted(profiles)
    out: list[dict[str, Any]] = []
    for rule_id in sorted(rules):
        rule = rules[rule_id]
        settings = {name: profiles[name].rules.get(rule_id) for name in names}
        params = [
            {
                "name": p.name,
                "description": p.description,
                "default": _show(p.default),
                "values": {
                    name: _show(s.params.get(p.name, p.default)) if s else _show(p.default)
                    for name, s in settings.items()
                },
            }
            for p in rule.params
        ]
        out.append(
            {
                "rule_id": rule_id,
                "family": rule.family,
                "title": rule.title,
                "severity": rule.severity,
                "citation": rule.citation,
                "description": rule.description,
                "params": params,
                # optional inputs without which the rule is "not applicable"
                "needs": [need_text(t) for t in rule.needs],
                "profiles": names,
                "severity_by_profile": {
                    name: s.severity if s else rule.severity for name, s in settings.items()
                },
                "enabled_by_profile": {
                    name: s.enabled if s else True for name, s in settings.items()
                },
            }
        )
    return out
