"""The rules stage: the engine over some rule families, and what a family that raises leaves.

With an audit period, the rules flag only the lines within it and see the others as context
(checks/period.py): the period goes to the engine's matching, the one place all runners share.

The direct runner passes every family to one engine pass (notes are matched to lines once
per pass) and falls back to one pass per family only when that pass raises; the Prefect flow
runs one task per family. Either way a family that raises leaves its rules "failed to run" and
the others complete (the engine itself already isolates a single rule that raises); the
families' answers are put together by checks.merge.merge_results.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from checks.declare import Rule
from checks.engine import FAILED, RuleRun, describe_failure, match, run_matched
from checks.measures import provider_measures
from checks.merge import RulesOutput, merge_results
from checks.period import Period
from checks.registry import all_rules
from checks.registry import families as rule_families
from flows.inputs.validate import ValidationSummary
from flows.run.context import RunContext


def family_rules(families: tuple[str, ...] | list[str]) -> dict[str, Rule]:
    rules = {k: r for k, r in all_rules().items() if r.family in families}
    unknown = set(families) - {r.family for r in all_rules().values()}
    if unknown:
        raise ValueError(f"unknown rule families {sorted(unknown)}")
    return rules


def run_families(
    validation: ValidationSummary,
    families: tuple[str, ...] | list[str],
    context: RunContext,
    *,
    measures: bool = False,
    period: Period | None = None,
    providers: pl.DataFrame | None = None,
    on_rule: Callable[[int, int], None] | None = None,
) -> RulesOutput:
    """One engine pass over the rules of `families`: notes are matched to lines once per pass,
    so the direct runner passes every family and the flow one per task. `measures`: also the
    per-provider measures of the report's scorecard (RulesOutput.providers). `period`: the
    audit period (None: every line). `providers`: the accepted rows of the providers export
    (None: not given; the rules that need it are then "not applicable"). `on_rule(done, total)`:
    called as each rule run ends (checks.engine.run_matched)."""
    profiles, override = context.profiles, context.override
    matched = match(
        validation.claims.lazy(),
        validation.notes.lazy(),
        validation.plans.lazy(),
        profiles=profiles,
        override=override,
        period=period,
    )
    # the scorecard's figures come from the lines already matched, not from a second grouping
    scorecard = None
    if measures:
        scorecard = provider_measures(matched, profiles, override, period)
    raw, runs, by_profile = run_matched(
        matched,
        profiles=profiles,
        mue=context.mue.lazy(),
        override=override,
        rules=family_rules(families),
        providers=None if providers is None else providers.lazy(),
        reference=context.reference,
        absent=validation.unavailable,
        on_rule=on_rule,
    )
    return RulesOutput(raw, runs, by_profile, scorecard)


def failed_families(families: tuple[str, ...] | list[str], error: str) -> RulesOutput:
    """Every rule of `families` "failed to run" with `error` (a family task that raised)."""
    runs = {k: RuleRun(k, status=FAILED, error=error) for k in family_rules(families)}
    return RulesOutput(pl.DataFrame(), runs)


def rules_isolated(
    validation: ValidationSummary,
    context: RunContext,
    families: tuple[str, ...] | None = None,
    *,
    period: Period | None = None,
    providers: pl.DataFrame | None = None,
    on_rule: Callable[[int, int], None] | None = None,
) -> RulesOutput:
    """All families in one pass (fastest); if that pass raises, each family alone, so only the
    family that raises is "failed to run" (the engine already isolates single rules). Default:
    every family of checks/rules/. `providers` as for run_families."""
    families = rule_families() if families is None else families
    try:
        return run_families(
            validation,
            families,
            context,
            measures=len(families) > 1,
            period=period,
            providers=providers,
            on_rule=on_rule,
        )
    except Exception as exc:
        if len(families) == 1:
            return failed_families(families, describe_failure(exc))
    return merge_results(
        [
            rules_isolated(validation, context, (f,), period=period, providers=providers)
            for f in families
        ]
    )
