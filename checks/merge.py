"""Rule results of several engine passes put together as one pass's: the one merge that the direct
runner (one pass per family when the single pass raises), the Prefect flow (one task per family)
and the Dask stage (one task per partition) all use.

Each pass belongs to a *cut*: passes of one cut saw every claim line exactly once between them
(the partitions of one cut; a pass over all lines is a cut of its own). So a rule's raw rows are
those of one pass over everything, in another order (findings are sorted when assembled); the
lines per profile are summed over a cut whose passes all ran.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

if TYPE_CHECKING:
    from checks.reduced import Reduced

from checks.engine import FAILED, FINDINGS, NOT_APPLICABLE, PASSED, RuleRun


@dataclass(frozen=True)
class RulesOutput:
    """The engine's answer for some rules: raw rule rows, a status per rule, lines per profile
    (empty when unknown: every pass that saw the lines failed)."""

    raw: pl.DataFrame
    runs: dict[str, RuleRun]
    lines_by_profile: dict[str, int] = field(default_factory=dict)
    # checks.measures.provider_measures, when the pass was asked for them
    providers: pl.DataFrame | None = None
    # the findings already assembled from `raw` (checks.assemble.assemble, a partitioned run
    # assembles each partition's while its lines are in memory): `raw` is then empty
    findings: pl.DataFrame | None = None
    # the report's measures, when reduced beside the rules (a partitioned run's)
    reduced: Reduced | None = None


def merge_runs(rule_id: str, runs: Sequence[RuleRun]) -> RuleRun:
    """A rule's status over several passes: failed to run if it failed in any, findings if any
    had findings, passed if it ran anywhere, else not applicable. Profiles are sorted (the
    summary sorts them too)."""
    failed = [r for r in runs if r.status == FAILED]
    if failed:
        return RuleRun(rule_id, status=FAILED, error=failed[0].error)
    findings = sum(r.findings for r in runs)
    ran = any(r.status in (PASSED, FINDINGS) for r in runs)
    status = FINDINGS if findings else PASSED if ran else NOT_APPLICABLE
    profiles = sorted({p for r in runs for p in r.profiles})
    # not applicable anywhere: the first pass's reason (a reason of a pass with nothing to
    # audit gives way to one about the rule's inputs)
    reasons = [r.reason for r in runs if r.reason is not None]
    reason = None
    if status == NOT_APPLICABLE and reasons:
        idle = "no claim line to audit"
        reason = next((r for r in reasons if r != idle), reasons[0])
    return RuleRun(rule_id, status=status, findings=findings, profiles=profiles, reason=reason)


def lines_by_profile(cut: Sequence[RulesOutput]) -> dict[str, int]:
    """Lines per profile summed over the passes of one cut; empty if one of them does not know
    its lines (it failed)."""
    if not cut or any(not o.lines_by_profile for o in cut):
        return {}
    total: dict[str, int] = {}
    for o in cut:
        for name, n in o.lines_by_profile.items():
            total[name] = total.get(name, 0) + n
    return total


def merge_results(outputs: Sequence[RulesOutput], cuts: Sequence[str] | None = None) -> RulesOutput:
    """`outputs` as one engine pass's answer: a merged status per rule (merge_runs), the raw rows
    of every rule that failed nowhere, lines per profile from the first cut where every pass
    ran, and the first provider measures there are. `cuts` names each output's cut (default:
    each output saw every line, as one pass per rule family does)."""
    cuts = [str(i) for i in range(len(outputs))] if cuts is None else cuts
    by_rule: dict[str, list[RuleRun]] = {}
    for out in outputs:
        for rule_id, run in out.runs.items():
            by_rule.setdefault(rule_id, []).append(run)
    runs = {rule_id: merge_runs(rule_id, found) for rule_id, found in by_rule.items()}
    failed = [r for r, run in runs.items() if run.status == FAILED]
    raws = [o.raw for o in outputs if not o.raw.is_empty()]
    raw = pl.concat(raws, how="vertical") if raws else pl.DataFrame()
    if failed and not raw.is_empty():
        raw = raw.filter(~pl.col("rule_id").is_in(failed))
    by_cut: dict[str, list[RulesOutput]] = {}
    for cut, out in zip(cuts, outputs, strict=True):
        by_cut.setdefault(cut, []).append(out)
    by_profile = next((t for t in map(lines_by_profile, by_cut.values()) if t), {})
    providers = next((o.providers for o in outputs if o.providers is not None), None)
    return RulesOutput(raw, runs, by_profile, providers)
