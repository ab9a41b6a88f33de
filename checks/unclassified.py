"""Claim lines whose procedure code no profile in use classifies (timed, untimed, per session).

Such lines are still audited: every rule that does not depend on a code's class (`applies_to`
None in its declaration: documentation, MUE, add-on and payment rules) sees them, and the rules
of a code class cannot judge them. They are counted in summary.json and the report instead of
only lowering a dataset expectation, so a reader knows how much of the export the class rules
left aside and which codes a profile would need.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import Any

import polars as pl

from checks.declare import Rule
from checks.profile import Profile
from checks.rows import Lines, engine_of

# enough codes to name the culprits; `codes` says how many there are
TOP = 10


def classified(profiles: Iterable[Profile]) -> frozenset[str]:
    """Every code some profile classifies as timed, untimed or per session."""
    codes: set[str] = set()
    for profile in profiles:
        codes |= profile.codes.timed | profile.codes.untimed | profile.codes.per_session
    return frozenset(codes)


def unclassified_codes(
    lines: Lines,
    profiles: Iterable[Profile],
    rules: Mapping[str, Rule],
    ran: Collection[str] | None = None,
) -> dict[str, Any]:
    """summary.json `unclassified_codes`: lines and distinct codes no profile classifies, the
    most frequent codes with their lines, and the rules that audit such lines all the same:
    those of `rules` that do not depend on a code's class and, when `ran` is given, that ran in
    this audit (not those left not applicable, off in every profile in use, or failed)."""
    known = classified(profiles)
    counts = (
        lines.lazy()
        .select("procedure_code")
        .filter(~pl.col("procedure_code").is_in(list(known)))
        .group_by("procedure_code")
        .len()
        .sort(["len", "procedure_code"], descending=[True, False])
        .collect(engine=engine_of(lines))
    )
    return {
        "lines": int(counts["len"].sum()),
        "codes": counts.height,
        "top": [{"code": c, "lines": int(n)} for c, n in counts.head(TOP).iter_rows()],
        "audited_by": sorted(
            r.rule_id
            for r in rules.values()
            if r.applies_to is None and (ran is None or r.rule_id in ran)
        ),
    }
