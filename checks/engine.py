"""Run the declared rules over validated exports and assemble findings in the one output schema.

Pure: frames and profiles in, findings and per-rule statuses out. `payer_type` picks each line's
profile; a rule runs once per profile that has lines, seeing every line but flagging only the
lines of that profile (`in_scope`), so provider-level rules still count all of a provider's work.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field

import polars as pl
from polars.exceptions import PanicException

from checks.base import LINE_ID, AuditData, CodeSets, code_class, line_discipline
from checks.matching import matched_lines
from checks.profile import Profile
from checks.registry import RULE_OUTPUT_SCHEMA, SEVERITY_COLUMN, Rule, all_rules
from schemas.findings import FINDINGS_COLUMNS, FINDINGS_ORDER, FINDINGS_SCHEMA

# Rules collect on polars' streaming engine (a third faster than the in-memory one on the rule
# frames at a million lines, issue #6). It panicked now and then under polars 2.1 (an assertion
# in a string kernel, not reproducible in isolation), so a panic is retried once in memory
# before the rule counts as failed to run.
RULE_ENGINE, FALLBACK_ENGINE = "streaming", "in-memory"

# DataQualityDashboard's statuses, in the words of issue #4's rule table.
PASSED, FINDINGS, NOT_APPLICABLE, FAILED = "passed", "findings", "not applicable", "failed to run"


@dataclass
class RuleRun:
    rule_id: str
    status: str = NOT_APPLICABLE
    findings: int = 0
    profiles: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class AuditResult:
    findings: pl.DataFrame
    runs: dict[str, RuleRun]
    lines_audited: int
    claims_audited: int
    # profile name -> lines audited under it
    lines_by_profile: dict[str, int]


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


def _fee_rate(lines: pl.LazyFrame, fee_schedule: pl.LazyFrame) -> pl.LazyFrame:
    """Per-unit rate of the latest fee-schedule year not after the service year (else the latest
    year there is), looked up once per distinct (code, year)."""
    keys = lines.select(
        pl.col("procedure_code"), pl.col("service_date").dt.year().alias("service_year")
    ).unique()
    fees = fee_schedule.select(
        pl.col("code").alias("procedure_code"), pl.col("year").cast(pl.Int32), "rate"
    )
    best = (
        keys.join(fees, on="procedure_code", how="inner")
        .with_columns(usable=pl.col("year") <= pl.col("service_year"))
        .sort("usable", "year")
        .group_by("procedure_code", "service_year")
        .agg(fee_rate=pl.col("rate").last(), fee_year=pl.col("year").last())
    )
    return lines.with_columns(pl.col("service_date").dt.year().alias("service_year")).join(
        best, on=["procedure_code", "service_year"], how="left"
    )


def _describe(exc: BaseException) -> str:
    """One line for the report: the error and where the rule raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _call(rule: Rule, data: AuditData, params: dict[str, object]) -> pl.DataFrame:
    frame = rule.func(data, **params)
    try:
        out = frame.collect(engine=RULE_ENGINE)
    except PanicException:
        out = frame.collect(engine=FALLBACK_ENGINE)
    missing = set(RULE_OUTPUT_SCHEMA) - set(out.columns)
    if missing:
        raise ValueError(f"{rule.rule_id} returned no column(s) {sorted(missing)}")
    if SEVERITY_COLUMN not in out.columns:
        out = out.with_columns(pl.lit(None, dtype=pl.String).alias(SEVERITY_COLUMN))
    return out.select(*RULE_OUTPUT_SCHEMA, SEVERITY_COLUMN).cast(
        {**RULE_OUTPUT_SCHEMA, SEVERITY_COLUMN: pl.String()}
    )


def _codes_key(codes: CodeSets) -> str:
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


def _config_key(profile: Profile, rule_id: str) -> str:
    """Two profiles that classify codes alike and give a rule the same parameters get the same
    answers from it, so the rule runs once for both (a large share of the engine's time)."""
    return repr((sorted(profile.rules[rule_id].params.items()), _codes_key(profile.codes)))


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


class _Lines:
    """Claim lines with their notes' summary, classified once per distinct set of code lists."""

    def __init__(self, base: pl.DataFrame) -> None:
        self.base = base
        self.prepared: dict[str, pl.DataFrame] = {}
        self.classes: dict[str, pl.DataFrame] = {}  # billed lines per profile and code class

    def _prepare(self, codes: CodeSets) -> str:
        key = _codes_key(codes)
        if key not in self.prepared:
            frame = (
                self.base.lazy()
                .with_columns(discipline=line_discipline(codes), code_class=code_class(codes))
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

    def scoped(self, codes: CodeSets, members: list[str]) -> pl.LazyFrame:
        key = self._prepare(codes)
        return self.prepared[key].lazy().with_columns(in_scope=pl.col("_profile").is_in(members))

    def applicable(self, rule: Rule, codes: CodeSets, members: list[str]) -> bool:
        """False when no in-scope billed line has a code class the rule can flag."""
        if rule.applies_to is None:
            return True
        key = self._prepare(codes)
        hits = self.classes[key].filter(
            pl.col("_profile").is_in(members) & pl.col("code_class").is_in(rule.applies_to)
        )
        return hits.height > 0


def run_rules(
    claims: pl.LazyFrame,
    notes: pl.LazyFrame,
    plans: pl.LazyFrame,
    *,
    profiles: dict[str, Profile],
    mue: pl.LazyFrame,
    override: Profile | None = None,
    rules: dict[str, Rule] | None = None,
) -> tuple[pl.DataFrame, dict[str, RuleRun], dict[str, int]]:
    """Raw rule output (RULE_OUTPUT_SCHEMA + rule_id, severity) and a status per rule.

    Notes are matched to lines once. Each rule then runs once per distinct configuration among
    the profiles that have lines (see _config_key), flagging the lines of those profiles; a
    null severity is filled from the profile of each flagged line. A rule that raises is
    recorded as failed to run; the others still complete."""
    rules = all_rules() if rules is None else rules
    runs = {rule_id: RuleRun(rule_id) for rule_id in rules}
    active = {override.name: override} if override is not None else profiles
    scopes = assign_profiles(claims, profiles, override)
    profile_of_line = pl.lit(None, dtype=pl.String)
    for name, in_scope in reversed(scopes.items()):
        profile_of_line = pl.when(in_scope).then(pl.lit(name)).otherwise(profile_of_line)

    # Patient ids are join and sort keys of nearly every rule: as categoricals (one global
    # dictionary) they are compared as integers, not strings (issue #6). Rules never print them.
    as_key = {"patient_id": pl.Categorical()}
    claims_df, notes_df = pl.collect_all([claims.cast(as_key), notes.cast(as_key)])
    notes = notes_df.lazy()
    plans = plans.cast(as_key).collect().lazy()
    # Matched on one packed integer key (checks/matching.py): 16 s -> ~4 s at 10M lines.
    # Frames that span many chunks (validated exports do) are only ever read lazily here: an
    # eager DataFrame.select or with_columns first copies every column into one chunk, a
    # second copy of the claims (2.3 s and ~3 GB at 10M lines, issue #6).
    base = (
        matched_lines(claims_df, notes_df)
        .lazy()
        .with_row_index(LINE_ID)
        .with_columns(profile_of_line.alias("_profile"))
        .collect()
    )
    counts = base.lazy().group_by("_profile").len().collect()
    lines_by_profile = {name: 0 for name in scopes}
    for row in counts.iter_rows():
        if row[0] is not None:
            lines_by_profile[row[0]] = int(row[1])
    with_lines = [name for name in scopes if lines_by_profile[name] > 0]

    lines = _Lines(base)

    frames: list[pl.DataFrame] = []
    for rule_id, rule in rules.items():
        run = runs[rule_id]
        outputs: list[pl.DataFrame] = []
        groups: dict[str, list[str]] = {}
        for name in with_lines:
            if active[name].rules[rule_id].enabled:
                groups.setdefault(_config_key(active[name], rule_id), []).append(name)
        for members in groups.values():
            profile = active[members[0]]
            if not lines.applicable(rule, profile.codes, members):
                continue
            data = AuditData(lines.scoped(profile.codes, members), notes, plans, mue, profile.codes)
            try:
                out = _call(rule, data, profile.rules[rule_id].params)
            except (Exception, PanicException) as exc:  # a broken rule must not sink the audit
                run.status, run.error = FAILED, _describe(exc)
                run.findings, run.profiles = 0, []
                break
            run.profiles.extend(members)
            run.findings += out.height
            run.status = FINDINGS if run.findings else PASSED
            severity_by_profile = {m: active[m].rules[rule_id].severity for m in members}
            outputs.append(_fill_severity(out, rule_id, severity_by_profile, base))
        if run.status != FAILED:
            frames.extend(outputs)
    raw = pl.concat(frames, how="vertical") if frames else pl.DataFrame()
    return raw, runs, lines_by_profile


def assemble(raw: pl.DataFrame, claims: pl.LazyFrame, fee_schedule: pl.LazyFrame) -> pl.DataFrame:
    """Findings in the output contract: line columns, money, stable ids, deterministic order.

    Money (issue #3): a unit finding risks excess units x the line's paid amount per unit; a
    whole-line finding (excess null) risks the line's paid amount. A blank paid amount is
    replaced by the fee-schedule rate x units; a code with no rate risks 0 and says so.
    """
    if raw.is_empty():
        return pl.DataFrame(schema=FINDINGS_SCHEMA)
    # Only the lines of flagged claims are looked up: an is_in on claim_id alone hashes each
    # claim id once, where a semi join on (claim_id, line_number) encoded both keys of all
    # ten million lines first. The left join below keeps the flagged lines of those claims.
    flagged = claims.filter(pl.col("claim_id").is_in(raw.get_column("claim_id").implode()))
    lines = _fee_rate(flagged, fee_schedule).select(
        "claim_id",
        "line_number",
        "patient_id",
        pl.col("rendering_npi").alias("provider_npi"),
        "service_date",
        "procedure_code",
        pl.col("units").alias("billed_units"),
        pl.coalesce("paid_amount", pl.col("fee_rate") * pl.col("units")).alias("line_paid"),
        pl.col("paid_amount").is_null().alias("paid_from_fee"),
        "fee_rate",
        "fee_year",
    )
    per_unit = pl.when(pl.col("billed_units") > 0).then(
        pl.col("line_paid") / pl.col("billed_units")
    )
    amount = (
        pl.when(pl.col("excess_units").is_null())
        .then(pl.col("line_paid"))
        .otherwise(pl.col("excess_units") * per_unit)
    )
    money_note = (
        pl.when(pl.col("line_paid").is_null())
        .then(pl.lit("; amount: no paid amount and no fee-schedule rate"))
        .when(pl.col("paid_from_fee"))
        .then(
            pl.format(
                "; amount: fee schedule {} rate {} per unit",
                pl.col("fee_year"),
                pl.col("fee_rate").round(2),
            )
        )
        .otherwise(pl.lit(""))
    )
    # The rule rows are put in order before the join, which keeps it: the sort gathers the
    # rule columns only, and on the in-memory engine it runs beside the claims lookup (a
    # join's two inputs are evaluated in parallel). FINDINGS_ORDER is unique per finding, as
    # finding_id is. At ten million lines, assemble took 3.2 s before (median of 6), 1.9 s
    # so and 2.6 s on the streaming engine (issue #6).
    return (
        raw.lazy()
        .sort(FINDINGS_ORDER)
        .join(lines, on=["claim_id", "line_number"], how="left", maintain_order="left")
        .with_columns(
            finding_id=pl.format(
                "{}:{}:{}", pl.col("rule_id"), pl.col("claim_id"), pl.col("line_number")
            ),
            amount_at_risk=amount.fill_null(0.0).round(2),
            evidence=pl.concat_str(pl.col("evidence").fill_null(""), money_note),
        )
        .select(FINDINGS_COLUMNS)
        .collect(engine="in-memory")
        .cast(FINDINGS_SCHEMA)
    )


def audit(
    claims: pl.LazyFrame,
    notes: pl.LazyFrame,
    plans: pl.LazyFrame,
    *,
    profiles: dict[str, Profile],
    fee_schedule: pl.LazyFrame,
    mue: pl.LazyFrame,
    override: Profile | None = None,
    rules: dict[str, Rule] | None = None,
) -> AuditResult:
    raw, runs, by_profile = run_rules(
        claims, notes, plans, profiles=profiles, mue=mue, override=override, rules=rules
    )
    findings = assemble(raw, claims, fee_schedule)
    counts = claims.select(
        pl.len().alias("lines"), pl.col("claim_id").n_unique().alias("claims")
    ).collect()
    return AuditResult(
        findings=findings,
        runs=runs,
        lines_audited=int(counts["lines"][0]),
        claims_audited=int(counts["claims"][0]),
        lines_by_profile=by_profile,
    )
