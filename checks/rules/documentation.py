"""Documentation rules: every billed line needs a session note that documents it."""

from __future__ import annotations

import polars as pl

from checks.base import NULL_INT, AuditData, billed_lines, rule_output
from checks.declare import rule

units_col = pl.col("units")
code_col = pl.col("procedure_code")


@rule(
    "DOC-NO-NOTE",
    title="Billed line without a session note",
    severity="error",
    citation="CMS Pub. 100-02 Ch. 15 §220.3 (documentation of each treatment)",
)
def doc_no_note(data: AuditData) -> pl.LazyFrame:
    """Billed line with no note for the same patient, date of service and procedure code.

    A line with no documentation at all is unsupported under every profile (Pub. 100-02 ch. 15
    §220.3), so the whole line is at risk. The match ignores the provider: a note written by
    another clinician still documents the service (checks/base.py).
    """
    lines = billed_lines(data).filter(pl.col("note_rows").is_null())
    return rule_output(
        lines,
        supported=NULL_INT,
        excess=NULL_INT,
        message=pl.format(
            "{} was billed for {} on {} but no session note documents that service for the "
            "patient on that date.",
            code_col,
            pl.format(
                "{} {}",
                units_col,
                pl.when(units_col == 1).then(pl.lit("unit")).otherwise(pl.lit("units")),
            ),
            pl.col("service_date").dt.to_string("%Y-%m-%d"),
        ),
        evidence=pl.format(
            "notes=none; matched on patient, date of service and code; units={}",
            units_col,
        ),
    )
