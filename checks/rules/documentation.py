"""Documentation rules: every billed line needs a session note that documents it, signed by
its author."""

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
from checks.declare import Param, rule

units_col = pl.col("units")
code_col = pl.col("procedure_code")


@rule(
    "DOC-NO-NOTE",
    action="review",
    needs=("notes",),
    title="Billed line without a session note",
    severity="error",
    citation=(
        "CMS Medicare Benefit Policy Manual, Pub. 100-02 (2024), Ch. 15 §220.3 (documentation of "
        "each treatment)"
    ),
)
def doc_no_note(data: AuditData) -> pl.LazyFrame:
    """Billed line with no note for the same patient, date of service and procedure code.

    A line with no documentation at all is unsupported under every profile (Pub. 100-02 ch. 15
    §220.3), so the whole line is at risk. The match ignores the provider: a note written by
    another clinician still documents the service.
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


@rule(
    "DOC-NOTE-UNSIGNED",
    action="sign",
    title="Session note unsigned, or signed long after the service",
    severity="error",
    citation=(
        "CMS Medicare Program Integrity Manual, Pub. 100-08 (2024), Ch. 3 §3.3.2.4 (signature "
        "requirements: services must be authenticated by their author; unsigned entries may be "
        "disregarded)"
    ),
    params=(
        Param(
            "late_after_days",
            7,
            "a signature more than this many days after the date of service is late (the "
            "practice's or payer's timeliness policy; CMS names no number)",
            minimum=0,
            maximum=365,
        ),
        Param(
            "unsigned_severity",
            "error",
            "severity when no signed note documents the line (the whole line is at risk)",
        ),
        Param(
            "partly_unsigned_severity",
            "warning",
            "severity when a matched note row is unsigned but a signed note documents the line "
            "(no money: a signature attestation may cure it)",
        ),
        Param("late_severity", "warning", "severity when the notes are signed, but late"),
    ),
    needs=("notes.signed_at",),
)
def doc_note_unsigned(
    data: AuditData,
    *,
    late_after_days: int,
    unsigned_severity: str,
    partly_unsigned_severity: str,
    late_severity: str,
) -> pl.LazyFrame:
    """Billed line whose matched notes (same patient, date, code and discipline) include one
    with no signature (`signed_at` blank), or are all signed but one more than
    `late_after_days` days after the date of service.

    When no signed note documents the line, nothing authenticates the service (Pub. 100-08
    Ch. 3 §3.3.2.4): with severity error the whole line is at risk. When a signed note does and
    another row (a draft, an addendum) is unsigned, a warning without money: the evidence says
    a signature attestation may cure it. A late signature is a warning that puts no money at
    risk, the note still documenting the service. Not applicable when no note of the export
    has a signature date at all (an export without the column, not a practice that signs
    nothing).
    """
    signed = pl.col("signed_at")
    days_late = (signed.dt.date() - pl.col("service_date")).dt.total_days()
    # the few unsigned or late note rows first, then their lines on the integer service key
    bad = data.notes.filter(signed.is_null() | (days_late > late_after_days)).select(
        SERVICE_ID,
        pl.col("discipline").alias("_note_discipline"),
        "note_id",
        unsigned=signed.is_null(),
        days_late=days_late,
    )
    bad = bad.cache()
    # the signed note rows of the (few) services with an unsigned one: do they document the line?
    signed_rows = (
        data.notes.filter(signed.is_not_null())
        .join(bad.filter(pl.col("unsigned")).select(SERVICE_ID).unique(), on=SERVICE_ID, how="semi")
        .select(SERVICE_ID, pl.col("discipline").alias("_note_discipline"))
    )
    billed = billed_lines(data).select(
        *LINE_KEY, SERVICE_ID, "discipline", "procedure_code", "units"
    )
    with_signed = (
        billed.join(signed_rows, on=SERVICE_ID, how="inner")
        .filter(documents_line(pl.col("_note_discipline")))
        .select(*LINE_KEY)
        .unique()
        .with_columns(has_signed=pl.lit(True))
    )
    lines = (
        billed.join(bad, on=SERVICE_ID, how="inner")
        .filter(documents_line(pl.col("_note_discipline")))
        .group_by(LINE_KEY)
        .agg(
            pl.first("procedure_code", "units"),
            unsigned=pl.col("note_id").filter(pl.col("unsigned")).unique().sort().str.join(";"),
            late=pl.col("note_id").filter(~pl.col("unsigned")).unique().sort().str.join(";"),
            days_late=pl.col("days_late").max(),
        )
        .join(with_signed, on=list(LINE_KEY), how="left")
        .with_columns(pl.col("has_signed").fill_null(False))
    )
    is_unsigned = pl.col("unsigned") != ""
    cured = is_unsigned & pl.col("has_signed")
    severity = (
        pl.when(cured)
        .then(pl.lit(partly_unsigned_severity))
        .when(is_unsigned)
        .then(pl.lit(unsigned_severity))
        .otherwise(pl.lit(late_severity))
    )
    whole_line = severity == "error"
    return rule_output(
        lines,
        supported=pl.when(whole_line).then(NULL_INT).otherwise(units_col),
        excess=pl.when(whole_line).then(NULL_INT).otherwise(pl.lit(0, dtype=pl.Int64)),
        message=pl.when(cured)
        .then(
            pl.format(
                "{} was billed and a signed note documents it, but another note row of it is "
                "not signed.",
                code_col,
            )
        )
        .when(is_unsigned)
        .then(pl.format("{} was billed but no signed note documents it.", code_col))
        .otherwise(
            pl.format(
                "{} was billed and its note was signed {} days after the service (more than {}).",
                code_col,
                pl.col("days_late"),
                pl.lit(late_after_days),
            )
        ),
        evidence=pl.format(
            "unsigned notes={}; late notes={}; most days late={}; limit={} days{}",
            pl.when(is_unsigned).then(pl.col("unsigned")).otherwise(pl.lit("none")),
            pl.when(pl.col("late") != "").then(pl.col("late")).otherwise(pl.lit("none")),
            pl.col("days_late").cast(pl.String).fill_null("none"),
            pl.lit(late_after_days),
            pl.when(cured)
            .then(
                pl.lit(
                    "; a signed note documents the line; a signature attestation may cure the "
                    "unsigned entry (Pub. 100-08 Ch. 3 §3.3.2.4)"
                )
            )
            .when(is_unsigned)
            .then(pl.lit("; no signed note documents the line"))
            .otherwise(pl.lit("")),
        ),
        severity=severity,
    )
