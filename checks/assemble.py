"""Findings in the output contract from the rules' raw rows: line columns, money at risk, stable
ids and a deterministic order; and the audit's result around them. Pure polars.

`assemble_result` is the one assembly path: the runners' findings stage hands it the merged rule
results (checks/merge.py), and `audit` (every rule over frames in one call) hands it one engine
pass's.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from checks.declare import RISK_SHARE_COLUMN, Rule
from checks.engine import AuditResult, RuleRun, run_rules
from checks.merge import RulesOutput
from checks.profile import Profile
from checks.registry import all_rules
from checks.rows import Lines, line_count
from schemas.findings import FINDINGS_COLUMNS, FINDINGS_ORDER, FINDINGS_SCHEMA

# the claims' optional note on how a line was read or paid (schemas/contract.py, checks/remits.py)
LINE_NOTE = "line_note"


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


def assemble(raw: pl.DataFrame, claims: pl.LazyFrame, fee_schedule: pl.LazyFrame) -> pl.DataFrame:
    """Findings in the output contract: line columns, money, stable ids, deterministic order.

    Money: a unit finding risks excess units x the line's paid amount per unit; a
    whole-line finding (excess null) risks the line's paid amount, or the rule's `risk_share`
    of it. A blank paid amount is
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
        # how the line was read or paid (X12 minutes, a date range, the remittance): evidence
        pl.col(LINE_NOTE)
        if LINE_NOTE in claims.collect_schema()
        else pl.lit(None, pl.String).alias(LINE_NOTE),
    )
    per_unit = pl.when(pl.col("billed_units") > 0).then(
        pl.col("line_paid") / pl.col("billed_units")
    )
    # a whole-line finding may put only a share of the line at risk (checks/declare.py)
    share = (
        pl.col(RISK_SHARE_COLUMN).fill_null(1.0)
        if RISK_SHARE_COLUMN in raw.columns
        else pl.lit(1.0)
    )
    amount = (
        pl.when(pl.col("excess_units").is_null())
        .then(pl.col("line_paid") * share)
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
    # join's two inputs are evaluated in parallel), faster than sorting the joined findings or
    # the streaming engine. FINDINGS_ORDER is unique per finding, as finding_id is.
    return (
        raw.lazy()
        .sort(FINDINGS_ORDER)
        .join(lines, on=["claim_id", "line_number"], how="left", maintain_order="left")
        .with_columns(
            finding_id=pl.format(
                "{}:{}:{}", pl.col("rule_id"), pl.col("claim_id"), pl.col("line_number")
            ),
            amount_at_risk=amount.fill_null(0.0).round(2),
            evidence=pl.concat_str(
                pl.col("evidence").fill_null(""),
                money_note,
                pl.when(pl.col(LINE_NOTE).is_not_null())
                .then(pl.concat_str(pl.lit("; "), pl.col(LINE_NOTE)))
                .otherwise(pl.lit("")),
            ),
        )
        .select(FINDINGS_COLUMNS)
        .collect(engine="in-memory")
        .cast(pl.Schema(FINDINGS_SCHEMA))
    )


def count_claims(claims: Lines) -> int:
    """Distinct claim ids. Exports list a claim's lines together (ours come sorted), and then
    the count is the number of runs of equal ids, found in one pass over neighbours, ten times
    faster than hashing every id. Any other order is hashed, on the streaming engine's
    threads; a scan is grouped as it is read, which holds the distinct ids only."""
    if isinstance(claims, pl.LazyFrame):
        distinct = claims.select("claim_id").group_by("claim_id").agg()
        return int(distinct.select(pl.len()).collect(engine="streaming").item())
    if not claims.height:
        return 0
    ids = claims.get_column("claim_id")
    if ids.null_count() == 0 and ids.is_sorted():
        return int(ids.ne_missing(ids.shift()).sum())
    return int(claims.lazy().select(pl.col("claim_id").n_unique()).collect().item())


def assemble_result(
    claims: Lines,
    results: RulesOutput,
    fee_schedule: pl.LazyFrame,
    rules: Mapping[str, Rule] | None = None,
) -> AuditResult:
    """The audit's result from the (merged) rule results over `claims`: findings in the
    contract, a status for every rule of `rules` (default: every declared rule, in catalogue
    order, whichever pass ran it), the lines and claims audited."""
    rules = all_rules() if rules is None else rules
    # a partitioned run's claims, counted a claim shard at a time beside its rules
    counted = None if results.reduced is None else results.reduced.claims
    return AuditResult(
        findings=results.findings
        if results.findings is not None
        else assemble(results.raw, claims.lazy(), fee_schedule),
        runs={k: results.runs.get(k, RuleRun(k)) for k in rules},
        lines_audited=line_count(claims),
        claims_audited=count_claims(claims) if counted is None else counted,
        lines_by_profile=results.lines_by_profile,
        providers=results.providers,
        reduced=results.reduced,
    )


def audit(
    claims: pl.DataFrame,
    notes: pl.DataFrame,
    plans: pl.DataFrame,
    *,
    profiles: dict[str, Profile],
    fee_schedule: pl.LazyFrame,
    mue: pl.LazyFrame,
    override: Profile | None = None,
    rules: dict[str, Rule] | None = None,
) -> AuditResult:
    """Every rule of `rules` (default: all) over the exports in one engine pass, assembled."""
    raw, runs, by_profile = run_rules(
        claims.lazy(),
        notes.lazy(),
        plans.lazy(),
        profiles=profiles,
        mue=mue,
        override=override,
        rules=rules,
    )
    return assemble_result(claims, RulesOutput(raw, runs, by_profile), fee_schedule, rules)


def claim_line_of(column: str) -> list[pl.Expr]:
    """claim_id and line_number from a finding id `RULE-ID:claim_id:line` (a claim id may hold
    ':', so the rule is before the first and the line after the last)."""
    rest = pl.col(column).str.splitn(":", 2).struct.field("field_1")
    return [
        rest.str.replace(r":\d+$", "").alias("claim_id"),
        rest.str.extract(r":(\d+)$", 1).cast(pl.Int64).alias("line_number"),
    ]
