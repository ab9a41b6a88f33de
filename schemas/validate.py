"""Run the contract (Pandera) on a normalised export and split accepted from quarantined rows.

Pure: no file I/O. Every problem is reported against `_source_file`/`_source_row`, so the
compliance officer can find the row in their own export. Invariant (checked here, and in the
tests): rows_read == rows_accepted + rows_quarantined, overall and for every source file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandera.errors as pa_errors
import polars as pl

from schemas.contract import (
    CERT_END_AFTER_START,
    MODELS,
    SOURCE_FILE,
    SOURCE_ROW,
    UNIQUE_KEY,
    UNIQUE_KEYS,
    reason,
)
from schemas.normalize import FAILURE_SCHEMA

PROBLEM_COLUMNS = ("export", "source_file", "source_row", "column", "reason")
PROBLEM_SCHEMA = pl.Schema({"export": pl.String(), **FAILURE_SCHEMA})
BY_FILE_SCHEMA = pl.Schema(
    {
        "source_file": pl.String(),
        "rows_read": pl.Int64(),
        "rows_accepted": pl.Int64(),
        "rows_quarantined": pl.Int64(),
    }
)

_KEY_NULL = "__key_null"


@dataclass(frozen=True)
class ValidationResult:
    """Outcome for one export. `problems` has PROBLEM_COLUMNS, one row per broken row and
    problem; `by_file` has BY_FILE_SCHEMA, one row per source file, sorted by name."""

    export: str
    accepted: pl.DataFrame
    problems: pl.DataFrame
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    by_file: pl.DataFrame
    # problems of the checks the caller asked to warn about (PROBLEM_COLUMNS): counted, the rows
    # still accepted
    warnings: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PROBLEM_SCHEMA))


def reason_category(reason_text: pl.Expr) -> pl.Expr:
    """A reason without a quoted raw value, for counting problems by kind.

    Reasons no longer quote values (schemas/normalize.py); a reason in the older form
    ("service_date '13/45/2026' is not a date ...") still groups as "service_date is not a date".
    """
    # an X12 claim's reason names the segment position ("segment 45 (DTP)"): counted as one kind
    return reason_text.str.replace(r"(?s)^(\S+) '.*' (is not .*)$", "${1} ${2}").str.replace(
        r"^(X12 \w+ not read: segment) \d+ ", "${1} N "
    )


def _unique_key(export: str) -> list[str]:
    return list(UNIQUE_KEYS.get(export, ()))


def _dataframe_check_columns(export: str) -> dict[str, str]:
    """Which column a frame-level check is reported under (Pandera names the model instead)."""
    return {UNIQUE_KEY: ", ".join(_unique_key(export)), CERT_END_AFTER_START: "cert_end"}


def _pandera_failures(export: str, typed: pl.DataFrame) -> pl.DataFrame:
    """Pandera's failure cases as (source_file, source_row, column, check)."""
    empty = pl.DataFrame(schema={**FAILURE_SCHEMA, "check": pl.String()}).drop("reason")
    try:
        # Collected frame on purpose: on a LazyFrame Pandera checks only the schema.
        MODELS[export].validate(typed, lazy=True)
        return empty
    except pa_errors.SchemaErrors as err:
        cases: pl.DataFrame = err.failure_cases
    if cases.filter(pl.col("index").is_null()).height:
        # A dtype or missing-column failure means normalize produced the wrong frame: a bug,
        # not a data problem, so it must not be quarantined row by row.
        broken = cases.filter(pl.col("index").is_null()).select("column", "check").rows()
        raise RuntimeError(f"typed {export} frame does not match the contract: {broken}")

    frame_checks = _dataframe_check_columns(export)
    unique = _unique_key(export)
    key_null = pl.any_horizontal([pl.col(c).is_null() for c in unique]) if unique else pl.lit(False)
    rows = typed.select(
        pl.col(SOURCE_FILE).alias("source_file"),
        pl.col(SOURCE_ROW).alias("source_row"),
        key_null.alias(_KEY_NULL),
    ).with_row_index("index")
    cases = (
        cases.select(
            pl.col("index").cast(pl.UInt32),
            pl.col("check"),
            pl.when(pl.col("schema_context") == "DataFrameSchema")
            .then(pl.col("check").replace_strict(frame_checks, default=pl.col("column")))
            .otherwise(pl.col("column"))
            .alias("column"),
        )
        .join(rows, on="index", how="left")
        # A row whose claim_id or line_number is blank/unparseable is already quarantined for
        # that; calling it a duplicate of another such row would be a second, false reason.
        .filter(~((pl.col("check") == UNIQUE_KEY) & pl.col(_KEY_NULL)))
    )
    return cases.select("source_file", "source_row", "column", "check")


def _reasons(failures: pl.DataFrame) -> pl.DataFrame:
    """Attach `schemas.contract.reason` text: computed once per distinct (check, column)."""
    pairs = failures.select("check", "column").unique()
    texts = [reason(check, column) for check, column in pairs.iter_rows()]
    lookup = pairs.with_columns(pl.Series("reason", texts, dtype=pl.String))
    return failures.join(lookup, on=["check", "column"], how="left")


def _as_problems(export: str, failures: pl.DataFrame) -> pl.DataFrame:
    return (
        failures.select(FAILURE_SCHEMA.keys())
        .cast(FAILURE_SCHEMA)
        .unique()
        .select(pl.lit(export).alias("export"), pl.all())
        .sort(["source_file", "source_row", "column", "reason"])
        .cast(PROBLEM_SCHEMA)
    )


def validate_export(
    export: str,
    typed: pl.DataFrame,
    parse_failures: pl.DataFrame,
    warn: frozenset[str] | None = None,
) -> ValidationResult:
    """Check `typed` (from schemas.normalize) against MODELS[export]; merge `parse_failures`.

    A row is accepted only if it has no problem at all. When a value failed to parse, the
    null left behind is not also reported as "required but blank" (one reason per problem).
    `warn`: contract checks (by name, e.g. VALID_NPI) whose failures are warnings instead.
    """
    if export not in MODELS:
        raise ValueError(f"unknown export {export!r}; expected one of {sorted(MODELS)}")
    keys = ["source_file", "source_row", "column"]
    parse_failures = parse_failures.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA)
    contract = _reasons(_pandera_failures(export, typed))
    warned = contract.filter(pl.col("check").is_in(list(warn or ())))
    contract = contract.filter(~pl.col("check").is_in(list(warn or ())))
    contract = pl.concat(
        [
            contract.filter(pl.col("check") != "not_nullable"),
            contract.filter(pl.col("check") == "not_nullable").join(
                parse_failures.select(keys), on=keys, how="anti"
            ),
        ]
    )
    problems = (
        pl.concat([parse_failures, contract.select(FAILURE_SCHEMA.keys()).cast(FAILURE_SCHEMA)])
        .unique()
        .select(pl.lit(export).alias("export"), pl.all())
        .sort(["source_file", "source_row", "column", "reason"])
    )

    bad = problems.select(
        pl.col("source_file").alias(SOURCE_FILE), pl.col("source_row").alias(SOURCE_ROW)
    ).unique()
    # Usually nothing is quarantined, and the anti-join would still copy every row.
    accepted = (
        typed
        if bad.is_empty()
        else typed.join(bad, on=[SOURCE_FILE, SOURCE_ROW], how="anti", maintain_order="left")
    )
    rows_quarantined = typed.height - accepted.height
    if rows_quarantined != bad.height:
        # Every problem must point at a row that was read, or the accounting would not add up.
        raise ValueError(f"{export}: problems refer to rows that are not in the typed frame")

    # Counted over runs of equal names (one per file as read), which is cheaper than hashing the
    # name on every row.
    read = (
        typed.select(pl.col(SOURCE_FILE).rle())
        .unnest(SOURCE_FILE)
        .group_by(pl.col("value").alias(SOURCE_FILE))
        .agg(pl.col("len").sum().alias("rows_read"))
    )
    quarantined = bad.group_by(SOURCE_FILE).agg(pl.len().alias("rows_quarantined"))
    by_file = (
        read.join(quarantined, on=SOURCE_FILE, how="left")
        .rename({SOURCE_FILE: "source_file"})
        .with_columns(pl.col("rows_quarantined").fill_null(0))
        .with_columns((pl.col("rows_read") - pl.col("rows_quarantined")).alias("rows_accepted"))
        .select(BY_FILE_SCHEMA.keys())
        .cast(BY_FILE_SCHEMA)
        .sort("source_file")
    )
    return ValidationResult(
        export=export,
        accepted=accepted,
        problems=problems.cast(PROBLEM_SCHEMA),
        rows_read=typed.height,
        rows_accepted=accepted.height,
        rows_quarantined=rows_quarantined,
        by_file=by_file,
        warnings=_as_problems(export, warned),
    )
