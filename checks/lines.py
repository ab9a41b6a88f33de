"""Claim lines as the rules see them: classified once per distinct set of code lists (a line's
discipline and code class depend on the profile's codes) and marked `in_scope` for the
profiles a rule runs for. The engine (checks/engine.py) keeps one ScopedLines per pass.
"""

from __future__ import annotations

from functools import cached_property

import polars as pl

from checks.base import CodeSets, Shared, code_class, line_discipline, modifier_discipline
from checks.declare import Rule
from checks.needs import with_optional
from schemas.distinct import code_values, map_distinct


def codes_key(codes: CodeSets) -> str:
    return repr(
        (
            sorted(codes.timed),
            sorted(codes.untimed),
            sorted(codes.per_session),
            sorted(codes.one_on_one),
            sorted(codes.evaluation),
            sorted(codes.discipline.items()),
        )
    )


class ScopedLines:
    """Claim lines with their notes' summary, classified once per distinct set of code lists."""

    def __init__(self, base: pl.DataFrame) -> None:
        self.base = base
        self.prepared: dict[str, pl.DataFrame] = {}
        self.classes: dict[str, pl.DataFrame] = {}  # billed lines per profile and code class
        # frames derived alike by several rules (base.Shared), per code sets
        self.shared: dict[str, Shared] = {}

    def _prepare(self, codes: CodeSets) -> str:
        key = codes_key(codes)
        if key not in self.prepared:
            frame = (
                self.base.lazy()
                .with_columns(
                    discipline=line_discipline(codes, self._by_modifier),
                    code_class=code_class(codes),
                )
                .collect()
            )
            self.prepared[key] = frame
            self.classes[key] = (
                frame.lazy()
                .filter(pl.col("units") > 0)
                .group_by("_profile", "code_class")
                .len()
                .collect()
            )
        return key

    @cached_property
    def _by_modifier(self) -> pl.Expr | None:
        """The modifiers' discipline, worked out once per distinct modifier set (three regular
        expressions per line are slow on millions of lines; schemas/distinct.py) and once for
        all the code sets."""
        modifiers = self.base.get_column("modifiers")
        distinct = code_values(modifiers)
        if distinct is None:
            return None
        return pl.lit(map_distinct(modifiers, modifier_discipline, distinct))

    def scoped(self, codes: CodeSets, members: list[str]) -> pl.LazyFrame:
        key = self._prepare(codes)
        lines = self.prepared[key].lazy().with_columns(in_scope=pl.col("_profile").is_in(members))
        return with_optional(lines, "claims")

    def shared_by(self, codes: CodeSets) -> Shared:
        return self.shared.setdefault(codes_key(codes), Shared())

    def applicable(self, rule: Rule, codes: CodeSets, members: list[str]) -> bool:
        """False when no in-scope billed line has a code class the rule can flag."""
        if rule.applies_to is None:
            return True
        key = self._prepare(codes)
        hits = self.classes[key].filter(
            pl.col("_profile").is_in(members) & pl.col("code_class").is_in(rule.applies_to)
        )
        return hits.height > 0
