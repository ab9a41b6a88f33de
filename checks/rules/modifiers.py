"""Modifier rules: Medicare therapy lines name their plan's discipline with GP, GO or GN."""

from __future__ import annotations

import polars as pl

from checks.base import (
    DISCIPLINE_MODIFIERS,
    NULL_INT,
    AuditData,
    billed_lines,
    modifier_discipline,
    rule_output,
)
from checks.declare import Param, rule
from checks.reference import latest_rows

code_col = pl.col("procedure_code")
MODIFIER_OF = {discipline: modifier for modifier, discipline in DISCIPLINE_MODIFIERS.items()}


def _therapy_lines(data: AuditData) -> pl.LazyFrame:
    """In-scope billed lines of an "always therapy" code (the table of the latest year not
    after the service year) with `mod_discipline`: the discipline their GP/GO/GN names."""
    assert data.reference.therapy_codes is not None  # needs: the engine checked it
    year = pl.col("service_date").dt.year().cast(pl.Int32).alias("year")
    lines = billed_lines(data).with_columns(year).cache()
    table = latest_rows(data.reference.therapy_codes.lazy(), lines.select("year"), [])
    therapy = lines.join(
        table.select("year", pl.col("code").alias("procedure_code")),
        on=["year", "procedure_code"],
        how="semi",
    )
    # a line's `discipline` is its modifier's, else its code's default: only codes with a
    # default (the evaluations) need the modifiers read again, the rest keep the column
    defaults = sorted(data.codes.discipline)
    with_default = therapy.filter(code_col.is_in(defaults)).with_columns(
        mod_discipline=modifier_discipline(pl.col("modifiers"))
    )
    without = therapy.filter(~code_col.is_in(defaults)).with_columns(
        mod_discipline=pl.col("discipline")
    )
    return pl.concat([with_default, without], how="vertical")


@rule(
    "MOD-THERAPY-MISSING",
    action="correct",
    title="Therapy line without GP, GO or GN, or under another discipline's modifier",
    severity="error",
    citation=(
        "CMS Medicare Claims Processing Manual, Pub. 100-04 (2024), Ch. 5 §20.1 (therapy modifiers"
        ' GP, GO, GN on every "always therapy" code; the modifier names the plan of care\'s '
        "discipline)"
    ),
    params=(
        Param(
            "check_provider_discipline",
            True,
            "with a providers export, also flag a GP/GO/GN that is not the rendering "
            "provider's discipline",
        ),
    ),
    needs=("reference.therapy_codes",),
)
def mod_therapy_missing(data: AuditData, *, check_provider_discipline: bool) -> pl.LazyFrame:
    """Billed line of an "always therapy" code (CMS annual therapy code list, kept by year in
    the program's therapy code table) without GP, GO or GN; and, when the providers export is
    given, a line whose GP/GO/GN names another discipline than its rendering provider's (a GP
    line rendered by an OT: PT and PTA are PT, OT and OTA are OT, SLP and SLPA are SLP).

    Medicare returns a therapy line without its modifier, and a service is furnished under a
    plan of its own discipline (Pub. 100-02 Ch. 15 §220.1), so the whole line is at risk.
    Off in the Medicaid and commercial profiles: the modifiers are Medicare's.
    """
    lines = _therapy_lines(data)
    if check_provider_discipline and data.providers is not None:
        who = data.providers.select(
            pl.col("npi").alias("rendering_npi"),
            pl.col("discipline").alias("provider_discipline"),
            pl.col("role").alias("provider_role"),
        ).unique(subset="rendering_npi", keep="first")
        lines = lines.join(who, on="rendering_npi", how="left")
    else:
        lines = lines.with_columns(
            provider_discipline=pl.lit(None, dtype=pl.String),
            provider_role=pl.lit(None, dtype=pl.String),
        )
    missing = pl.col("mod_discipline").is_null()
    other = (
        pl.col("provider_discipline").is_in(list(MODIFIER_OF))
        & (pl.col("mod_discipline") != pl.col("provider_discipline"))
    ).fill_null(False)
    flagged = lines.filter(missing | other)
    expected = pl.col("provider_discipline").replace_strict(
        MODIFIER_OF, default=None, return_dtype=pl.String
    )
    used = pl.col("mod_discipline").replace_strict(
        MODIFIER_OF, default=None, return_dtype=pl.String
    )
    return rule_output(
        flagged,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.when(missing)
        .then(
            pl.format(
                "{} is an always-therapy code but the line carries no GP, GO or GN modifier.",
                code_col,
            )
        )
        .otherwise(
            pl.format(
                "{} was billed with {} ({} plan) but the rendering provider is {} ({}), whose "
                "plan's modifier is {}.",
                code_col,
                used,
                pl.col("mod_discipline"),
                pl.col("provider_role").fill_null("of unknown role"),
                pl.col("provider_discipline"),
                expected,
            )
        ),
        evidence=pl.format(
            "modifiers={}; always-therapy code list; provider discipline={}",
            pl.col("modifiers").fill_null("none"),
            pl.col("provider_discipline").fill_null("not given"),
        ),
    )
