"""Metrics the report computes from frames: findings and money by provider and by month, the
provider scorecard and the audited period. Pure polars, no I/O.

Money follows checks/summary.py: a line flagged by several rules is at risk once, for the largest
of its amounts, so the per-provider and per-month amounts add up to summary.json's total (up to
rounding of each group to cents).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

import polars as pl

from checks.measures import (
    lines_with_minutes,
    per_provider,
    service_measures,
    with_cloned_documentation,
)
from checks.rows import Lines, collected, engine_of, line_count
from checks.summary import line_totals

LINE = ("claim_id", "line_number")
# CMS 15-minute timed units: a provider whose notes document well under 15 minutes per billed
# unit, over enough units to be more than noise, is worth a look.
LOW_MINUTES_PER_UNIT = 12.0
MIN_TIMED_UNITS = 20
# A provider whose share of flagged lines is at least this multiple of the practice's.
HIGH_RATE_FACTOR = 2.0
MIN_LINES_FOR_RATE = 20

DIMENSION_SCHEMA = pl.Schema(
    {
        "key": pl.String(),
        "findings": pl.Int64(),
        "lines": pl.Int64(),
        "amount_at_risk": pl.Float64(),
    }
)


def per_line(findings: pl.DataFrame) -> pl.DataFrame:
    """One row per flagged claim line: its provider, month (first day), finding count and amount
    at risk (the largest of its findings' amounts)."""
    # checks.summary.line_totals is the one "each line once, at its largest amount" rule; a
    # line has one provider and one date, so grouping by them too keeps one row per line
    dated = findings.lazy().with_columns(month=pl.col("service_date").dt.truncate("1mo"))
    return (
        line_totals(dated, *LINE, "provider_npi", "month")
        .select(*LINE, "provider_npi", "month", "findings", amount_at_risk="amount")
        .collect()
    )


def _by(lines: pl.DataFrame, key: str) -> pl.DataFrame:
    if lines.height == 0:
        return pl.DataFrame(schema=DIMENSION_SCHEMA)
    grouped = lines.group_by(pl.col(key).alias("key")).agg(
        pl.col("findings").sum().cast(pl.Int64),
        pl.len().cast(pl.Int64).alias("lines"),
        pl.col("amount_at_risk").sum().round(2),
    )
    if grouped.schema["key"] == pl.Date:
        # formatted after grouping: a dozen months, not a million lines
        grouped = grouped.sort("key").with_columns(pl.col("key").dt.strftime("%Y-%m"))
    return grouped.cast(DIMENSION_SCHEMA)


def by_provider(findings: pl.DataFrame, lines: pl.DataFrame | None = None) -> pl.DataFrame:
    """key (provider NPI), findings, lines, amount_at_risk; largest amount first. Pass `lines`
    (per_line(findings)) when it is already at hand."""
    lines = per_line(findings) if lines is None else lines
    return _by(lines, "provider_npi").sort(
        ["amount_at_risk", "findings", "key"], descending=[True, True, False]
    )


def by_month(findings: pl.DataFrame, lines: pl.DataFrame | None = None) -> pl.DataFrame:
    """key (YYYY-MM of the date of service), findings, lines, amount_at_risk; in month order."""
    lines = per_line(findings) if lines is None else lines
    return _by(lines, "month").sort("key")


def service_period(claims: Lines) -> tuple[dt.date, dt.date] | None:
    """First and last date of service of the audited lines (None when there are none)."""
    dates = (
        claims.lazy()
        .select(pl.col("service_date").min().alias("lo"), pl.col("service_date").max().alias("hi"))
        .collect(engine=engine_of(claims))
        .row(0)
    )
    return (dates[0], dates[1]) if dates[0] is not None else None


def _timed(timed_codes: Mapping[str, Collection[str]]) -> pl.Expr:
    """True for a line whose code is timed under the profile of its payer type."""
    expr = pl.lit(False)
    for payer, codes in timed_codes.items():
        expr = (
            pl.when(pl.col("payer_type") == payer)
            .then(pl.col("procedure_code").is_in(sorted(codes)))
            .otherwise(expr)
        )
    return expr


SCORECARD_SCHEMA = pl.Schema(
    {
        "provider_npi": pl.String(),
        "lines": pl.Int64(),
        "claims": pl.Int64(),
        "lines_with_findings": pl.Int64(),
        "findings": pl.Int64(),
        "findings_rate": pl.Float64(),
        "amount_at_risk": pl.Float64(),
        "timed_units": pl.Int64(),
        "documented_minutes": pl.Int64(),
        "minutes_per_unit": pl.Float64(),
        "notes_with_text": pl.Int64(),
        "cloned_notes": pl.Int64(),
        "cloned_share": pl.Float64(),
        "low_minutes": pl.Boolean(),
        "high_rate": pl.Boolean(),
    }
)


def exports_measures(
    claims: pl.DataFrame, notes: pl.DataFrame, timed_codes: Mapping[str, Collection[str]]
) -> pl.DataFrame:
    """The scorecard's per-provider measures (checks.measures.MEASURES_SCHEMA) from the exports
    themselves, for a run that has not kept the engine's (checks.measures.provider_measures
    gives the same figures from the matched lines, much faster)."""
    # the notes documenting each line, of its discipline (checks/matching.py)
    timed = service_measures(lines_with_minutes(claims, notes), _timed(timed_codes))
    return per_provider(claims.lazy(), timed)


def provider_scorecard(
    claims: Lines,
    notes: Lines,
    findings: pl.DataFrame,
    timed_codes: Mapping[str, Collection[str]],
    *,
    measures: pl.DataFrame | None = None,
    low_minutes: float = LOW_MINUTES_PER_UNIT,
    min_timed_units: int = MIN_TIMED_UNITS,
    high_rate_factor: float = HIGH_RATE_FACTOR,
    min_lines_for_rate: int = MIN_LINES_FOR_RATE,
    notes_given: bool = True,
    cloned: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per rendering provider of the audited lines (SCORECARD_SCHEMA).

    `timed_codes` maps a payer_type to the timed codes of its profile. Documented minutes are
    the minutes of the notes matching the provider's timed lines on patient, date of service
    and code (the rules' match, checks/base.py), counted once per such service however many
    lines bill it; a timed line without a note documents 0 minutes. `minutes_per_unit` is
    documented minutes / timed units billed (CMS expects about 15). `cloned_share`: the share
    of the provider's notes with text whose text repeats another note's word for word
    (checks.measures.cloned_documentation; null without note text). `measures`: the engine's
    checks.measures.provider_measures of this run (else computed from claims and notes).
    `notes_given` False (a claims-only run): documented minutes are unknown, not 0, and no
    provider is flagged for them. `cloned`: the cloned-notes columns already reduced (a
    partitioned run's; else from `notes`).
    """
    if line_count(claims) == 0:
        return pl.DataFrame(schema=SCORECARD_SCHEMA)
    if measures is None:
        measures = exports_measures(collected(claims), collected(notes), timed_codes)
    # a measure beside the findings, not a finding: identical short notes are common
    measures = with_cloned_documentation(measures, notes.lazy(), engine_of(notes), cloned)
    flagged = (
        per_line(findings)
        .lazy()
        .group_by("provider_npi")
        .agg(
            pl.len().cast(pl.Int64).alias("lines_with_findings"),
            pl.col("findings").sum().cast(pl.Int64),
            pl.col("amount_at_risk").sum().round(2),
        )
    )
    card = (
        measures.lazy()
        .join(flagged, on="provider_npi", how="left")
        .with_columns(
            pl.col("lines_with_findings", "findings").fill_null(0).cast(pl.Int64),
            pl.col("amount_at_risk").fill_null(0.0),
        )
        .collect()
    )
    # int(): both columns are Int64, but Series.sum is typed for every dtype (float, Decimal).
    practice_rate = int(card["lines_with_findings"].sum()) / int(card["lines"].sum())
    if not notes_given:
        card = card.with_columns(pl.lit(None, dtype=pl.Int64).alias("documented_minutes"))
    rate = pl.col("lines_with_findings") / pl.col("lines")
    per_unit = (
        pl.when(pl.col("timed_units") > 0)
        .then(pl.col("documented_minutes") / pl.col("timed_units"))
        .otherwise(None)
    )
    return (
        card.with_columns(findings_rate=rate.round(6), minutes_per_unit=per_unit)
        .with_columns(
            low_minutes=(pl.col("timed_units") >= min_timed_units)
            & (pl.col("minutes_per_unit") < low_minutes).fill_null(False),
            high_rate=(pl.col("lines") >= min_lines_for_rate)
            & (rate >= high_rate_factor * practice_rate)
            & (pl.col("lines_with_findings") > 0),
        )
        .select(list(SCORECARD_SCHEMA))
        .cast(SCORECARD_SCHEMA)
        .sort(["amount_at_risk", "lines", "provider_npi"], descending=[True, True, False])
    )
