"""Assistant rules: services furnished by a therapy assistant carry CQ or CO (paid at 85 %)."""

from __future__ import annotations

import polars as pl

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

code_col = pl.col("procedure_code")


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


@rule(
    "ASSISTANT-MOD-MISSING",
    title="Service by a therapy assistant without the CQ or CO modifier",
    severity="error",
    citation=(
        "Bipartisan Budget Act of 2018 §53107 (services furnished in whole or in part by a "
        "therapy assistant paid at 85 %); CMS Pub. 100-04 Ch. 5 §20.1 (CQ and CO modifiers)"
    ),
    params=(
        Param(
            "assistant_modifiers",
            {"PTA": "CQ", "OTA": "CO"},
            "assistant role (providers export) -> the modifier its services carry",
        ),
        Param(
            "de_minimis_share",
            0.10,
            "an assistant's share of the line's documented minutes above which the service is "
            "furnished in part by the assistant",
        ),
        Param(
            "payment_reduction",
            0.15,
            "share of the line's paid amount at risk: the payment reduction the modifier brings",
        ),
    ),
    needs=("providers",),
)
def assistant_mod_missing(
    data: AuditData,
    *,
    assistant_modifiers: dict[str, str],
    de_minimis_share: float,
    payment_reduction: float,
) -> pl.LazyFrame:
    """Billed line rendered by a physical or occupational therapy assistant (role PTA or OTA
    in the providers export), or documented by a note an assistant wrote for more than 10 % of
    the line's documented minutes (a note without minutes counts as more), whose modifiers lack
    the assistant's CQ (PTA) or CO (OTA).

    Such services are paid at 85 % of the fee schedule (BBA 2018 §53107), so the amount at risk
    is the 15 % reduction of the line's paid amount, not the whole line. Needs the providers
    export; off in the Medicaid and commercial profiles (a Medicare payment rule).
    """
    assistants = _assistants(data, assistant_modifiers).cache()
    lines = billed_lines(data).select(
        *LINE_KEY, SERVICE_ID, "rendering_npi", "discipline", "procedure_code", "modifiers",
        "note_minutes",
    ).cache()  # fmt: skip
    rendered = lines.join(
        assistants.rename({"npi": "rendering_npi"}), on="rendering_npi", how="inner"
    ).select(*LINE_KEY, "procedure_code", "modifiers", "role", "expected", via=pl.lit("rendered"))
    # the assistants' note rows first (a few), then the lines they document
    notes = data.notes.join(
        assistants.rename({"npi": "provider_npi"}), on="provider_npi", how="inner"
    ).select(SERVICE_ID, "role", "expected", "minutes", _note_discipline="discipline")
    total = pl.col("note_minutes").first()
    share = pl.when(total > 0).then(pl.col("minutes").sum() / total)
    documented = (
        lines.join(notes, on=SERVICE_ID, how="inner")
        .filter(documents_line(pl.col("_note_discipline")))
        .group_by(*LINE_KEY, "role", "expected")
        .agg(
            pl.first("procedure_code", "modifiers"),
            part=pl.when(pl.col("minutes").is_null().any()).then(None).otherwise(share),
        )
        .filter(pl.col("part").is_null() | (pl.col("part") > de_minimis_share))
        .select(
            *LINE_KEY,
            "procedure_code",
            "modifiers",
            "role",
            "expected",
            via=pl.format(
                "notes ({} of the minutes)",
                pl.when(pl.col("part").is_null())
                .then(pl.lit("share unknown"))
                .otherwise(pl.format("{}%", (pl.col("part") * 100).round(0))),
            ),
        )
    )
    carried = pl.col("modifiers").fill_null("").str.split(":").list.contains(pl.col("expected"))
    missing = (
        pl.concat([rendered, documented], how="vertical")
        .filter(~carried)
        .group_by(LINE_KEY)
        .agg(
            pl.first("procedure_code", "modifiers"),
            expected=pl.col("expected").unique().sort().str.join(", "),
            who=pl.format("{} by {}", pl.col("role"), pl.col("via")).unique().sort().str.join("; "),
        )
    )
    out = rule_output(
        missing,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.format(
            "{} was furnished by a therapy assistant but carries no {} modifier; the assistant "
            "payment reduction ({}%) is at risk.",
            code_col,
            pl.col("expected"),
            pl.lit(round(payment_reduction * 100, 2)),
        ),
        evidence=pl.format(
            "assistant: {}; modifiers={}; share at risk={}",
            pl.col("who"),
            pl.col("modifiers").fill_null("none"),
            pl.lit(payment_reduction),
        ),
    )
    return out.with_columns(pl.lit(payment_reduction, dtype=pl.Float64).alias(RISK_SHARE_COLUMN))
