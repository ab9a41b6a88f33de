"""Add-on code rules: an add-on code is billed only with its primary code."""

from __future__ import annotations

import polars as pl

from checks.base import NULL_INT, AuditData, billed_lines, rule_output
from checks.declare import rule
from checks.reference import latest_rows

code_col = pl.col("procedure_code")
# NCCI add-on edits (Type I) and CPT: the primary is billed by the same practitioner for the
# same patient and date
DAY_KEY = ["patient_id", "service_date", "rendering_npi"]


@rule(
    "ADDON-NO-PRIMARY",
    action="correct",
    title="Add-on code billed without its primary code",
    severity="error",
    citation=(
        "AMA CPT (2025) add-on code convention ('+' codes, reported only with their primary "
        "procedure); CMS NCCI add-on code edits (2025)"
    ),
    needs=("reference.addon_codes",),
)
def addon_no_primary(data: AuditData) -> pl.LazyFrame:
    """Billed add-on code with no billed line of one of its primary codes by the same rendering
    provider for the same patient and date of service (97130 without 97129; the psychotherapy
    add-ons 90833, 90836 and 90838 without an evaluation and management visit), any payer: a
    primary billed by another practitioner does not carry the add-on.

    The pairs are the program's versioned add-on code table (year and source on every row; the
    table of the latest year not after the service year). An add-on is never
    payable alone, so the whole line is at risk.
    """
    assert data.reference.addon_codes is not None  # needs: the engine checked it
    table = data.reference.addon_codes.lazy()
    # the few add-on lines first: everything after works on them alone
    addons = billed_lines(data).join(
        table.select(pl.col("addon").alias("procedure_code")).unique(),
        on="procedure_code",
        how="semi",
    )
    addons = addons.select("claim_id", "line_number", *DAY_KEY, "procedure_code", "units").cache()
    years = addons.select(pl.col("service_date").dt.year().cast(pl.Int32).alias("year"))
    pairs = latest_rows(table, years, []).select(
        "year", pl.col("addon").alias("procedure_code"), "primary"
    )
    wanted = addons.with_columns(year=pl.col("service_date").dt.year().cast(pl.Int32)).join(
        pairs, on=["year", "procedure_code"], how="inner"
    )
    # primaries billed (any scope: a primary on another payer's claim still accompanies it)
    primaries = (
        data.lines.filter(pl.col("units") > 0)
        .join(addons.select(DAY_KEY).unique(), on=DAY_KEY, how="semi")
        .select(*DAY_KEY, pl.col("procedure_code").alias("primary"))
        .unique()
    )
    found = wanted.join(primaries, on=[*DAY_KEY, "primary"], how="semi").select(
        "claim_id", "line_number"
    )
    missing = wanted.group_by("claim_id", "line_number").agg(
        pl.first("procedure_code", "units", "service_date"),
        primaries=pl.col("primary").unique().sort().head(5).str.join(", "),
        n_primaries=pl.col("primary").n_unique(),
    )
    lines = missing.join(found.unique(), on=["claim_id", "line_number"], how="anti")
    listed = pl.when(pl.col("n_primaries") > 5).then(
        pl.format("{}, … ({} codes)", pl.col("primaries"), pl.col("n_primaries"))
    )
    primaries_text = listed.otherwise(pl.col("primaries"))
    return rule_output(
        lines,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.format(
            "Add-on code {} was billed without its primary code ({}) by the same provider for "
            "the patient on {}.",
            code_col,
            primaries_text,
            pl.col("service_date").dt.to_string("%Y-%m-%d"),
        ),
        evidence=pl.format(
            "add-on={}; primary codes={}; none billed by the rendering provider for the patient "
            "that day; units={}",
            code_col,
            primaries_text,
            pl.col("units"),
        ),
    )
