"""The rule catalogue: every rule declared in a family module of checks/rules/.

A family is a module of that package (a name starting with `_` is a helper, not a family), so a
new family is one new file: nothing else lists the families. Each family's rule ids share one
prefix that no other family uses (UNITS-, OVERLAP-, POC-, DOC-, TIME-), so a rule id tells where
its code is.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import checks.rules
from checks.declare import RULES, Rule


def family_modules() -> tuple[str, ...]:
    """The family modules' names, in name order."""
    return tuple(
        sorted(m.name for m in pkgutil.iter_modules(checks.rules.__path__) if m.name[0] != "_")
    )


@cache
def _load() -> dict[str, Rule]:
    for name in family_modules():
        importlib.import_module(f"{checks.rules.__name__}.{name}")
    prefixes: dict[str, str] = {}
    for rule in RULES.values():
        prefix = rule.rule_id.split("-", 1)[0]
        if prefixes.setdefault(prefix, rule.family) != rule.family:
            raise ValueError(
                f"rule id prefix {prefix}- is used by families {prefixes[prefix]} and {rule.family}"
            )
    by_family: dict[str, set[str]] = {}
    for prefix, family in prefixes.items():
        by_family.setdefault(family, set()).add(prefix)
    mixed = {f: sorted(p) for f, p in by_family.items() if len(p) > 1}
    if mixed:
        raise ValueError(f"a family's rule ids must share one prefix: {mixed}")
    return dict(sorted(RULES.items()))


def all_rules() -> dict[str, Rule]:
    """Every declared rule by id, importing the family modules so their decorators have run."""
    return dict(_load())


def families() -> tuple[str, ...]:
    """The families that declare at least one rule, in name order."""
    return tuple(sorted({r.family for r in _load().values()}))
