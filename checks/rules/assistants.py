"""Assistant rules: services furnished by a therapy assistant carry CQ or CO (paid at 85 %)."""

from __future__ import annotations

import polars as pl

from checks.attribution import attributed_excess, units_text
from checks.base import (
    LINE_KEY,
    NULL_INT,
    SERVICE_ID,
    AuditData,
    billed_lines,
    documents_line,
    rule_output,
)
from checks.declare import RISK_SHARE_COLUMN, Param, rule
from schemas.bounds import DATE_MAX, DATE_MIN
from schemas.contract import ROLES

code_col = pl.col("procedure_code")
# An assistant's minutes count towards the lines of the discipline its notes document (a PTA's
# CQ is a PT modifier, Pub. 100-04 ch. 5 §20.1), and each payer's claim carries its own units:
# a service's lines pool by discipline and payer, never across them. A line of unknown
# discipline pools with the service's one known discipline (its own pool when there are more).
POOL = (SERVICE_ID, "_pool_discipline", "payer_type")


def _assistants(data: AuditData, modifiers: dict[str, str]) -> pl.LazyFrame:
    assert data.providers is not None  # needs: the engine checked it
    return (
        data.providers.filter(pl.col("role").is_in(list(modifiers)))
        .select(
            "npi",
            "role",
            pl.col("role").replace_strict(modifiers, return_dtype=pl.String).alias("expected"),
        )
        .unique(subset="npi", keep="first")
    )


def _pool_discipline() -> pl.Expr:
    """The line's discipline, else the one known discipline of its service's lines."""
    known = pl.col("discipline")
    lo, hi = known.min().over(SERVICE_ID), known.max().over(SERVICE_ID)
    return pl.coalesce(known, pl.when(lo == hi).then(lo))


def _units_needed(assistant: pl.Expr, therapist: pl.Expr, billed: pl.Expr) -> pl.Expr:
    """Units of a service that need CQ/CO under CMS's method: each whole 15 minutes to whoever
    furnished them, then the remaining units to whoever furnished more of the remaining
    minutes (a tie, or the assistant alone, needs the modifier: over 10 % of the unit)."""
    left = (billed - assistant // 15 - therapist // 15).clip(lower_bound=0)
    ra, rt = assistant % 15, therapist % 15
    remaining = (
        pl.when(ra == 0)
        .then(0)
        .when(ra >= rt)
        .then(pl.min_horizontal(left, 1))
        .otherwise(pl.min_horizontal((left - 1).clip(lower_bound=0), 1))
    )
    # the assistant furnished the whole service: every billed unit needs the modifier
    return (
        pl.when(therapist <= 0)
        .then(billed)
        .otherwise(pl.min_horizontal(billed, assistant // 15 + remaining))
    )


@rule(
    "ASSISTANT-MOD-MISSING",
    action="correct",
    title="Service by a therapy assistant without the CQ or CO modifier",
    severity="error",
    citation=(
        "Bipartisan Budget Act of 2018 §53107 (services furnished in whole or in part by a therapy"
        " assistant paid at 85 %); CMS Medicare Claims Processing Manual, Pub. 100-04 (2024), Ch. "
        "5 §20.1 (CQ and CO modifiers); CY 2022 PFS final rule (de minimis standard per 15-minute "
        "unit)"
    ),
    params=(
        Param(
            "assistant_modifiers",
            {"PTA": "CQ", "OTA": "CO"},
            "assistant role (providers export) -> the modifier its services carry",
            choices=ROLES,
            value_pattern="[A-Z0-9]{2}",
        ),
        Param(
            "payment_reduction",
            0.15,
            "share of a unit's paid amount at risk: the payment reduction the modifier brings",
            minimum=0.0,
            maximum=1.0,
        ),
        Param(
            "reduction_from_year",
            2022,
            "first year of service paid at the reduced rate (the modifier alone is required "
            "from 2020): earlier lines put nothing at risk",
            minimum=DATE_MIN.year,
            maximum=DATE_MAX.year,
        ),
    ),
    needs=("providers",),
)
def assistant_mod_missing(
    data: AuditData,
    *,
    assistant_modifiers: dict[str, str],
    payment_reduction: float,
    reduction_from_year: int,
) -> pl.LazyFrame:
    """Billed lines short of the CQ (PTA) or CO (OTA) units the service needs: every unit of a
    line rendered by an assistant (role PTA or OTA in the providers export), and, for a service
    documented in part by an assistant's notes, the units CMS's per-unit method gives the
    assistant (whole 15 minutes to whoever furnished them, then each remaining unit to whoever
    furnished more of its minutes; an assistant's note without minutes counts as one unit).

    The units the service's lines of that discipline and payer bill with the modifier are
    subtracted (an OT's 97110 the same day owes nothing to a PTA's PT minutes; a dual-eligible's
    Medicare and Medicaid claims each carry their own units); the shortfall falls on the lines
    without it, later-billed first. Such units are paid at 85 % (BBA 2018 §53107), so
    the amount at risk is 15 % of the shortfall units' share of the line's paid amount, none
    before the reduction's first year. Needs the providers export; off in the Medicaid and
    commercial profiles (a Medicare payment rule).
    """
    assistants = _assistants(data, assistant_modifiers).cache()
    lines = billed_lines(data).select(
        *LINE_KEY, SERVICE_ID, "payer_type", "rendering_npi", "discipline", "procedure_code",
        "modifiers", "note_minutes", "units", "service_date",
    ).cache()  # fmt: skip
    carried = pl.col("modifiers").fill_null("").str.split(":").list.contains(pl.col("expected"))
    rendered = (
        lines.join(assistants.rename({"npi": "rendering_npi"}), on="rendering_npi", how="inner")
        .filter(~carried)
        .select(
            *LINE_KEY, "procedure_code", "modifiers", "units", "service_date", "expected",
            short=pl.col("units"), who=pl.format("{} rendered the line", pl.col("role")),
        )
    )  # fmt: skip
    # the assistants' note rows first (a few), then the services they document
    notes = data.notes.join(
        assistants.rename({"npi": "provider_npi"}), on="provider_npi", how="inner"
    ).select(SERVICE_ID, "role", "expected", "minutes", _note_discipline="discipline")
    # the lines of those services only (a few), with the discipline each pools under
    assisted = (
        lines.join(notes.select(SERVICE_ID).unique(), on=SERVICE_ID, how="semi")
        .with_columns(_pool_discipline=_pool_discipline())
        .cache()
    )
    services = (
        assisted.join(notes, on=SERVICE_ID, how="inner")
        .filter(documents_line(pl.col("_note_discipline")))
        .group_by(*LINE_KEY, *POOL, "role", "expected")
        .agg(
            pl.col("minutes").sum().alias("assistant"),
            pl.col("minutes").is_null().any().alias("unknown"),
            pl.col("note_minutes").first().fill_null(0).alias("total"),
        )
        .group_by(*POOL, "role", "expected")
        .agg(pl.max("assistant", "total"), pl.col("unknown").any())
    )
    billed = pl.col("units").sum().over(*POOL, "expected")
    with_modifier = pl.col("units").filter(carried).sum().over(*POOL, "expected")
    therapist = (pl.col("total") - pl.col("assistant")).clip(lower_bound=0)
    need = _units_needed(pl.col("assistant"), therapist, billed)
    need = pl.when(pl.col("unknown")).then(pl.max_horizontal(need, 1)).otherwise(need)
    documented = (
        assisted.join(services, on=list(POOL), how="inner", nulls_equal=True)
        .with_columns(
            need=need, billed=billed, with_modifier=with_modifier.fill_null(0), _carried=carried
        )
        .with_columns(shortfall=(pl.col("need") - pl.col("with_modifier")).clip(lower_bound=0))
        .filter(~pl.col("_carried") & (pl.col("shortfall") > 0))
        .with_columns(
            short=attributed_excess(pl.col("shortfall"), key=(*POOL, "expected")),
            who=pl.format(
                "{} notes ({}); {} of the service's {} need {}, {} billed with it",
                pl.col("role"),
                pl.when(pl.col("unknown"))
                .then(pl.lit("minutes unknown"))
                .otherwise(pl.format("{} of {} minutes", pl.col("assistant"), pl.col("total"))),
                units_text(pl.col("need")),
                units_text(pl.col("billed")),
                pl.col("expected"),
                pl.col("with_modifier"),
            ),
        )
        .filter(pl.col("short") > 0)
        .select(
            *LINE_KEY, "procedure_code", "modifiers", "units", "service_date", "expected",
            "short", "who",
        )
    )  # fmt: skip
    missing = (
        pl.concat([rendered, documented], how="vertical")
        .group_by(LINE_KEY)
        .agg(
            pl.first("procedure_code", "modifiers", "units", "service_date"),
            pl.max("short"),
            expected=pl.col("expected").unique().sort().str.join(", "),
            who=pl.col("who").unique().sort().str.join("; "),
        )
    )
    reduced = pl.col("service_date").dt.year() >= reduction_from_year
    share = (
        pl.when(reduced)
        .then((payment_reduction * pl.col("short") / pl.col("units")).round(6))
        .otherwise(0.0)
        .cast(pl.Float64)
    )
    missing = missing.with_columns(share=share).cache()
    out = rule_output(
        missing,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.format(
            "{} was furnished by a therapy assistant but {} of it carry no {} modifier; the "
            "assistant payment reduction ({}%) is at risk.",
            code_col,
            units_text(pl.col("short")),
            pl.col("expected"),
            pl.lit(round(payment_reduction * 100, 2)),
        ),
        evidence=pl.format(
            "assistant: {}; modifiers={}; share at risk={}",
            pl.col("who"),
            pl.col("modifiers").fill_null("none"),
            pl.col("share").round(4),
        ),
    )
    # the share per line rides along by key: rule_output keeps the findings columns only
    risk = missing.select(*LINE_KEY, pl.col("share").alias(RISK_SHARE_COLUMN))
    return out.join(risk, on=list(LINE_KEY), how="left")
