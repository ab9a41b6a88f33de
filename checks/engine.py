"""Run the declared rules over validated exports: raw rule rows and a status per rule.

Pure: frames and profiles in, rule rows and per-rule statuses out (checks/assemble.py turns them
into findings in the one output schema). `payer_type` picks each line's
profile; a rule runs once per profile that has lines, seeing every line but flagging only the
lines of that profile (`in_scope`), so provider-level rules still count all of a provider's work.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import polars as pl
from polars.exceptions import PanicException

if TYPE_CHECKING:
    from checks.reduced import Reduced

from checks.base import (
    LINE_ID,
    NOTE_TEXT,
    AuditData,
)
from checks.declare import RISK_SHARE_COLUMN, RULE_OUTPUT_SCHEMA, SEVERITY_COLUMN, Rule
from checks.disciplines import line_disciplines
from checks.lines import ScopedLines, codes_key
from checks.matching import match as match_frames
from checks.needs import providers_frame, reason_for, unmet_needs, with_optional
from checks.period import Period, in_period
from checks.profile import Profile
from checks.reference import Reference
from checks.registry import all_rules

# Rules collect on polars' streaming engine, faster than the in-memory one on large rule frames.
# It panicked now and then under polars 2.1 (an assertion in a string kernel, not reproducible
# in isolation), so a panic is retried once in memory before the rule counts as failed to run.
PolarsEngine = Literal["streaming", "in-memory"]
RULE_ENGINE: PolarsEngine = "streaming"
FALLBACK_ENGINE: PolarsEngine = "in-memory"
# ... from this many lines on: below, the streaming engine's set-up per query costs more than it
# saves.
STREAMING_FROM_LINES = 250_000
# ... and one rule at a time from this many lines on, so that only one rule's intermediate frames
# are in memory at once; below, rules side by side fill the gaps one query leaves on the cores.
ONE_AT_A_TIME_FROM_LINES = 2_000_000
# Side by side on the streaming engine, at most this many rules at once: each query already spreads
# over every core, and more at once would only multiply the frames in memory.
STREAMING_AT_ONCE = 2

# DataQualityDashboard's statuses, in the words of the rule catalogue.
PASSED, FINDINGS, NOT_APPLICABLE, FAILED = "passed", "findings", "not applicable", "failed to run"


@dataclass
class RuleRun:
    rule_id: str
    status: str = NOT_APPLICABLE
    findings: int = 0
    profiles: list[str] = field(default_factory=list)
    error: str | None = None
    # why a rule is "not applicable" ("no providers export given"); None otherwise
    reason: str | None = None


@dataclass
class AuditResult:
    findings: pl.DataFrame
    runs: dict[str, RuleRun]
    lines_audited: int
    claims_audited: int
    # profile name -> lines audited under it
    lines_by_profile: dict[str, int]
    # per-provider measures of the lines (checks/measures.py), when the run computed them
    providers: pl.DataFrame | None = None
    # the report's measures, when reduced beside the rules (a partitioned run's)
    reduced: Reduced | None = None


def timed_codes_by_payer(
    payer_types: Iterable[str], profiles: dict[str, Profile], override: Profile | None
) -> dict[str, frozenset[str]]:
    """payer_type -> timed codes of the profile its lines are audited under (as
    assign_profiles assigns them): the override's for every payer type given, else each
    profile's for the payer types it claims."""
    if override is not None:
        return {str(p): override.codes.timed for p in payer_types}
    return {payer: p.codes.timed for p in profiles.values() for payer in p.payer_types}


def assign_profiles(
    claims: pl.LazyFrame, profiles: dict[str, Profile], override: Profile | None
) -> dict[str, pl.Expr]:
    """profile name -> in-scope predicate over claim lines."""
    if override is not None:
        return {override.name: pl.lit(True)}
    return {
        name: pl.col("payer_type").is_in(list(p.payer_types))
        for name, p in profiles.items()
        if p.payer_types
    }


def describe_failure(failure: object) -> str:
    """Type and where it was raised, without the message: messages of data libraries can quote
    cell values (patient ids), and this text goes to logs, Prefect, the report and summary.json.
    Anything else that stands for a failure (a task's lost result) is named by its type."""
    if not isinstance(failure, BaseException):
        return type(failure).__name__
    frames = traceback.extract_tb(failure.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(failure).__name__}{where}"


def _call(
    rule: Rule, data: AuditData, params: dict[str, object], engine: PolarsEngine
) -> pl.DataFrame:
    frame = rule.func(data, **params)
    try:
        out = frame.collect(engine=engine)
    except PanicException:
        out = frame.collect(engine=FALLBACK_ENGINE)
    missing = set(RULE_OUTPUT_SCHEMA) - set(out.columns)
    if missing:
        raise ValueError(f"{rule.rule_id} returned no column(s) {sorted(missing)}")
    extra = {SEVERITY_COLUMN: pl.String(), RISK_SHARE_COLUMN: pl.Float64()}
    out = out.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in extra.items() if name not in out
    )
    return out.select(*RULE_OUTPUT_SCHEMA, *extra).cast(pl.Schema({**RULE_OUTPUT_SCHEMA, **extra}))


def _idle_reason(with_lines: list[str], groups: dict[str, list[str]]) -> str:
    """Why a rule that gets no job is "not applicable" (cleared when a job of it runs)."""
    if not with_lines:
        return "no claim line to audit"
    if not groups:
        return "not enabled in the profiles in use"
    return "no billed line of the codes it checks"


def _config_key(profile: Profile, rule_id: str) -> str:
    """Two profiles that classify codes alike and give a rule the same parameters get the same
    answers from it, so the rule runs once for both (a large share of the engine's time)."""
    return repr((sorted(profile.rules[rule_id].params.items()), codes_key(profile.codes)))


def _fill_severity(
    out: pl.DataFrame, rule_id: str, by_profile: dict[str, str], base: pl.DataFrame
) -> pl.DataFrame:
    """A null severity takes the rule's severity in the profile of the flagged line; the
    line's profile is looked up only when the grouped profiles disagree on it."""
    severities = set(by_profile.values())
    out = out.with_columns(pl.lit(rule_id).alias("rule_id"))
    if out.is_empty() or out.get_column(SEVERITY_COLUMN).null_count() == 0:
        return out
    if len(severities) == 1:
        return out.with_columns(pl.col(SEVERITY_COLUMN).fill_null(severities.pop()))
    return (
        out.join(
            base.lazy().select("claim_id", "line_number", "_profile").collect(),
            on=["claim_id", "line_number"],
            how="left",
        )
        .with_columns(
            pl.col(SEVERITY_COLUMN).fill_null(
                pl.col("_profile").replace_strict(by_profile, return_dtype=pl.String)
            )
        )
        .drop("_profile")
    )


@dataclass
class Matched:
    """Claim lines matched to their notes once (checks/matching.py), for every rule of a run:
    `lines` has LINE_ID, SERVICE_ID, the notes' summary and `_profile` (the profile name that
    audits the line, null for none); `notes` and `plans` are the exports as the rules read them."""

    lines: pl.DataFrame
    notes: pl.LazyFrame
    plans: pl.LazyFrame
    # profile name -> lines audited under it
    lines_by_profile: dict[str, int]


def match(
    claims: pl.LazyFrame,
    notes: pl.LazyFrame,
    plans: pl.LazyFrame,
    *,
    profiles: dict[str, Profile],
    override: Profile | None = None,
    period: Period | None = None,
) -> Matched:
    """The first half of run_rules: every claim line with its notes and its profile. A line
    outside the audit `period` gets no profile: the rules see it and never flag it
    (checks/period.py)."""
    scopes = assign_profiles(claims, profiles, override)
    profile_of_line = pl.lit(None, dtype=pl.String)
    for name, in_scope in reversed(scopes.items()):
        profile_of_line = pl.when(in_scope).then(pl.lit(name)).otherwise(profile_of_line)
    if period is not None:
        profile_of_line = pl.when(in_period(period)).then(profile_of_line)

    # Patient ids are join and sort keys of nearly every rule: as categoricals (one global
    # dictionary) they are compared as integers, not strings. Rules never print them.
    as_key = pl.Schema({"patient_id": pl.Categorical()})
    # No rule reads a note's raw text (the cloned-notes measure reads its hash): carrying it
    # through the sorts and joins below would move every note's text several times.
    notes = notes.drop(NOTE_TEXT, strict=False)
    # Every rule sorts, joins and gathers these frames: on frames of many chunks (a Parquet
    # file's row groups) each of those steps costs about twice what it does on one chunk. The
    # runners pass single-chunk frames, which the in-memory engine keeps in one chunk without
    # copying the columns it does not cast (the streaming engine would cut them into morsels).
    claims_df, notes_df = (
        frame.rechunk()
        for frame in pl.collect_all([claims.cast(as_key), notes.cast(as_key)], engine="in-memory")
    )
    # Lines and notes are matched on one packed integer key (checks/matching.py).
    # each line's discipline under the profile that audits it, so notes match by discipline
    active = {override.name: override} if override is not None else profiles
    discipline = line_disciplines(
        claims_df, {name: p.codes for name, p in active.items()}, profile_of_line
    )
    matched = match_frames(claims_df, notes_df, discipline)
    base = (
        matched.lines.lazy()
        .with_row_index(LINE_ID)
        .with_columns(profile_of_line.alias("_profile"))
        .collect()
    )
    counts = base.lazy().group_by("_profile").len().collect()
    lines_by_profile = {name: 0 for name in scopes}
    for row in counts.iter_rows():
        if row[0] is not None:
            lines_by_profile[row[0]] = int(row[1])
    plans_df = plans.cast(as_key).collect(engine="in-memory").rechunk()
    return Matched(base, matched.notes.lazy(), plans_df.lazy(), lines_by_profile)


def run_rules(
    claims: pl.LazyFrame,
    notes: pl.LazyFrame,
    plans: pl.LazyFrame,
    *,
    profiles: dict[str, Profile],
    mue: pl.LazyFrame,
    override: Profile | None = None,
    rules: dict[str, Rule] | None = None,
    period: Period | None = None,
    providers: pl.LazyFrame | None = None,
    reference: Reference | None = None,
    unmet: dict[str, str] | None = None,
    absent: Collection[str] | Mapping[str, str] = (),
) -> tuple[pl.DataFrame, dict[str, RuleRun], dict[str, int]]:
    """Raw rule output (RULE_OUTPUT_SCHEMA + rule_id, severity) and a status per rule.

    Notes are matched to lines once. Each rule then runs once per distinct configuration among
    the profiles that have lines (see _config_key), flagging the lines of those profiles; a
    null severity is filled from the profile of each flagged line. A rule that raises is
    recorded as failed to run; the others still complete."""
    matched = match(claims, notes, plans, profiles=profiles, override=override, period=period)
    return run_matched(
        matched,
        profiles=profiles,
        mue=mue,
        override=override,
        rules=rules,
        providers=providers,
        reference=reference,
        unmet=unmet,
        absent=absent,
    )


def run_matched(
    matched: Matched,
    *,
    profiles: dict[str, Profile],
    mue: pl.LazyFrame,
    override: Profile | None = None,
    rules: dict[str, Rule] | None = None,
    providers: pl.LazyFrame | None = None,
    reference: Reference | None = None,
    unmet: dict[str, str] | None = None,
    absent: Collection[str] | Mapping[str, str] = (),
    on_rule: Callable[[int, int], None] | None = None,
) -> tuple[pl.DataFrame, dict[str, RuleRun], dict[str, int]]:
    """The second half of run_rules: the rules over lines already matched.

    `providers`: the providers export (None: not given); `reference`: the reference tables
    (checks/reference.py). A rule whose `needs` are not met (checks/needs.py) is "not
    applicable" with the reason; `unmet` gives those needs when the caller judged them over
    more data than this pass sees (a partition), so that every pass agrees. `absent`: the
    exports not given (notes, plans: a claims-only audit), whose frames are empty stand-ins.
    `on_rule(done, total)`: called as each rule run ends (a console's progress bar)."""
    rules = all_rules() if rules is None else rules
    runs = {rule_id: RuleRun(rule_id) for rule_id in rules}
    active = {override.name: override} if override is not None else profiles
    base, notes, plans = matched.lines, with_optional(matched.notes, "notes"), matched.plans
    reference = Reference() if reference is None else reference
    providers = providers_frame(providers)
    if unmet is None:
        inputs: dict[str, pl.LazyFrame | pl.DataFrame] = {
            "claims": base,
            "notes": notes,
            "plans": plans,
        }
        tokens = {t for rule in rules.values() for t in rule.needs}
        unmet = unmet_needs(
            tokens, frames=inputs, providers=providers, reference=reference, absent=absent
        )
    lines_by_profile = matched.lines_by_profile
    with_lines = [name for name, n in lines_by_profile.items() if n > 0]

    lines = ScopedLines(base)
    engine = RULE_ENGINE if base.height >= STREAMING_FROM_LINES else FALLBACK_ENGINE
    one_at_a_time = base.height >= ONE_AT_A_TIME_FROM_LINES

    # One job per rule and distinct configuration among the profiles with lines.
    jobs: list[tuple[str, list[str], AuditData]] = []
    for rule_id, rule in rules.items():
        runs[rule_id].reason = reason_for(rule.needs, unmet)
        if runs[rule_id].reason is not None:
            continue
        groups: dict[str, list[str]] = {}
        for name in with_lines:
            if active[name].rules[rule_id].enabled:
                groups.setdefault(_config_key(active[name], rule_id), []).append(name)
        runs[rule_id].reason = _idle_reason(with_lines, groups)
        for members in groups.values():
            profile = active[members[0]]
            if lines.applicable(rule, profile.codes, members):
                scoped = lines.scoped(profile.codes, members)
                shared = lines.shared_by(profile.codes)
                data = AuditData(
                    scoped, notes, plans, mue, profile.codes, providers, reference, shared
                )
                jobs.append((rule_id, members, data))

    family = [""]  # the family of the rule run last, when the rules run one at a time

    def attempt(job: tuple[str, list[str], AuditData]) -> pl.DataFrame | BaseException:
        rule_id, members, data = job
        if one_at_a_time and rules[rule_id].family != family[0]:
            # one at a time, in family order: the frames a family shared are freed once it is
            # done (they are derived within a family), keeping the peak down
            family[0] = rules[rule_id].family
            for shared in lines.shared.values():
                shared.clear()
        try:
            return _call(rules[rule_id], data, active[members[0]].rules[rule_id].params, engine)
        except (Exception, PanicException) as exc:  # a broken rule must not sink the audit
            return exc

    at_once = os.cpu_count() or 1
    if engine == RULE_ENGINE:
        at_once = min(at_once, STREAMING_AT_ONCE)
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        # Smaller inputs: the rules run side by side (per-query overheads and serial steps
        # would leave cores idle). Large ones run one at a time, as evaluated (a lazy map).
        results = map(attempt, jobs) if one_at_a_time else pool.map(attempt, jobs)
        outputs: dict[str, list[pl.DataFrame]] = {rule_id: [] for rule_id in rules}
        for done, ((rule_id, members, _), out) in enumerate(zip(jobs, results, strict=True)):
            if on_rule is not None:
                on_rule(done + 1, len(jobs))
            run = runs[rule_id]
            if run.status == FAILED:
                continue
            if isinstance(out, BaseException):
                run.status, run.error, run.reason = FAILED, describe_failure(out), None
                run.findings, run.profiles, outputs[rule_id] = 0, [], []
                continue
            run.profiles.extend(members)
            run.reason = None
            run.findings += out.height
            run.status = FINDINGS if run.findings else PASSED
            severity_by_profile = {m: active[m].rules[rule_id].severity for m in members}
            outputs[rule_id].append(_fill_severity(out, rule_id, severity_by_profile, base))
    frames = [frame for rule_id in rules for frame in outputs[rule_id]]
    raw = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    return raw, runs, lines_by_profile
