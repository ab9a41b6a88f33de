"""The counts of validation.json (flows/inputs/validate.py has the format): per export and per
file, rows read, accepted, quarantined and filtered, and problems and warnings by reason, grouped
without the quoted raw value, so the summary carries counts, never data."""

from __future__ import annotations

from typing import Any

import polars as pl

from flows.inputs.mapping import SourceMapping
from flows.inputs.read import RawExport
from flows.outputs.files import QUARANTINE_CSV, QUARANTINE_PARQUET
from schemas.contract import ALL_EXPORTS
from schemas.normalize import MINUTES_DERIVED
from schemas.validate import ValidationResult, reason_category


def _by_reason(problems: pl.DataFrame) -> pl.DataFrame:
    return (
        problems.group_by("source_file", reason_category(pl.col("reason")).alias("category"))
        .agg(pl.len().alias("n"))
        .sort(["source_file", "n", "category"], descending=[False, True, False])
    )


def _reason_counts(by_reason: pl.DataFrame) -> dict[str, int]:
    totals = (
        by_reason.group_by("category")
        .agg(pl.col("n").sum())
        .sort(["n", "category"], descending=[True, False])
    )
    return dict(totals.iter_rows())


def export_summary(raw: RawExport, result: ValidationResult) -> dict[str, Any]:
    by_reason = _by_reason(result.problems)
    warned = _by_reason(result.warnings)
    counts = {row["source_file"]: row for row in result.by_file.iter_rows(named=True)}
    files = []
    for source in raw.files:
        row = counts.get(source.name, {})
        mine = by_reason.filter(pl.col("source_file") == source.name)
        files.append(
            {
                "source_file": source.name,
                "format": source.format,
                "encoding": source.encoding,
                "rows_read": row.get("rows_read", 0) + source.filtered_rows,
                "rows_accepted": row.get("rows_accepted", 0),
                "rows_quarantined": row.get("rows_quarantined", 0),
                "rows_filtered": source.filtered_rows,
                "blank_rows_skipped": source.blank_rows,
                "problems": int(mine["n"].sum()),
                "problems_by_reason": _reason_counts(mine),
                "warnings": int(warned.filter(pl.col("source_file") == source.name)["n"].sum()),
            }
        )
    filtered = rows_filtered(raw)
    summary: dict[str, Any] = {
        "input": str(raw.path),
        "rows_read": result.rows_read + filtered,
        "rows_accepted": result.rows_accepted,
        "rows_quarantined": result.rows_quarantined,
        "rows_filtered": filtered,
        "blank_rows_skipped": sum(s.blank_rows for s in raw.files),
        "problems": result.problems.height,
        "problems_by_reason": _reason_counts(by_reason),
        "warnings": result.warnings.height,
        "warnings_by_reason": _reason_counts(warned),
        "files": files,
    }
    if MINUTES_DERIVED in result.accepted.columns:
        summary[MINUTES_DERIVED] = int(result.accepted[MINUTES_DERIVED].sum())
    return summary


def rows_filtered(raw: RawExport) -> int:
    """Rows of the export the mapping's row filter dropped (counted, never audited)."""
    return sum(s.filtered_rows for s in raw.files)


def summarize(
    described: dict[str, dict[str, Any]],
    results: dict[str, ValidationResult],
    mapping: SourceMapping | None,
) -> dict[str, Any]:
    """The content of validation.json (see the module doc); `described`: each export's part
    (export_summary)."""
    exports = {e: described[e] for e in ALL_EXPORTS if e in described}
    problems = sum(r.problems.height for r in results.values())
    return {
        "mapping": None
        if mapping is None
        else {"name": mapping.name, "file": None if mapping.path is None else str(mapping.path)},
        "npi_check": "quarantine" if mapping is None else mapping.npi_check,
        "totals": {
            "rows_read": sum(e["rows_read"] for e in exports.values()),
            "rows_accepted": sum(r.rows_accepted for r in results.values()),
            "rows_quarantined": sum(r.rows_quarantined for r in results.values()),
            "rows_filtered": sum(e["rows_filtered"] for e in exports.values()),
            "problems": problems,
            "warnings": sum(r.warnings.height for r in results.values()),
        },
        "quarantine": {"csv": QUARANTINE_CSV, "parquet": QUARANTINE_PARQUET, "problems": problems},
        "exports": exports,
    }
