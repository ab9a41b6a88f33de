"""The beneficiaries past the targeted medical-review threshold, for report.html: the KX rule's
spending basis (checks.rules.threshold.beneficiaries_past_review) with the settings of the
profile that counts the threshold's payer types (Medicare)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from checks.registry import all_rules
from checks.rows import Lines, engine_of
from checks.rows import payer_types as all_payer_types
from checks.rules.threshold import beneficiaries_past_review, in_review_order
from flows.run.context import RunContext

KX_RULE = "KX-MISSING"


def past_review(lines: Lines, context: RunContext) -> pl.DataFrame | None:
    """patient_id, year, group, allowed, review_threshold of the beneficiaries past the review
    threshold in the audited `lines`; None when the run has no thresholds table or no profile
    (so the report leaves the list out rather than show an empty one that means nothing)."""
    rule = all_rules().get(KX_RULE)
    profiles = context.in_use
    if rule is None or context.reference.thresholds is None or not profiles:
        return None
    params: dict[str, Any] = {p.name: p.default for p in rule.params}
    counted = set(params["payer_types"])
    # the profile auditing the threshold's payer types: its codes give a line's discipline
    name = next((n for n in sorted(profiles) if counted & set(profiles[n].payer_types)), None)
    if name is None and context.override is None:
        return None
    profile = profiles[name] if name is not None else next(iter(profiles.values()))
    settings = profile.rules.get(KX_RULE)
    if settings is not None:
        params.update(settings.params)
    payer_types = list(params["payer_types"])
    if context.override is not None:
        # one profile audits every line, so every line counts as the rule's scope does
        payer_types = all_payer_types(lines)
    if "modifiers" not in lines.collect_schema().names():
        # an optional column: a line without modifiers takes its code's discipline
        lines = lines.with_columns(pl.lit(None, dtype=pl.String).alias("modifiers"))
    return beneficiaries_past_review(
        lines.lazy(),
        profile.codes,
        context.reference,
        coinsurance=float(params["coinsurance"]),
        payer_types=tuple(payer_types),
        engine=engine_of(lines),
    )


def past_review_of(
    parts: Sequence[pl.DataFrame], claims: pl.DataFrame, context: RunContext
) -> pl.DataFrame | None:
    """past_review over every line, from the lists of a partitioned run's patient partitions
    (`parts`: a beneficiary's lines are all in one); `claims`: the claim lines' columns, no
    rows. None as past_review gives it: the run's profiles decide, not its lines."""
    listed = past_review(claims, context)
    if listed is None:
        return None
    return in_review_order(pl.concat([listed, *parts]).lazy()).collect()
