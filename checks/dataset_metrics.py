"""The dataset expectations' metrics: each export reduced to a few numbers, and what they mean.

Pure polars: the accepted exports, the thresholds and the known codes in; per expectation the
figure to judge, its bounds, what was observed and the description the report shows, out.
flows/expectations/ hands the small frames built from these to Great Expectations and reads the
outcomes back (`describe`). Nothing here is converted to pandas whole: at ten million lines each
export becomes one metrics row and one row per timed code.

Which expectations, in this fixed order (export, name): claims row_count, unknown_code_share,
timed_units_mean, timed_units_share_above, service_dates_in_period; notes row_count,
without_times_share, unknown_code_share, service_dates_in_period; plans row_count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from checks.rows import Lines, engine_of, line_count

# the expectations judged once per timed code, on the per-code frame (the others on one row)
CODE_COLUMNS = ("mean_units", "share_above")


@dataclass
class Spec:
    """One expectation: the GE frame column it checks, its bounds, and what the report shows."""

    export: str
    name: str
    column: str
    lo: float | None
    hi: float | None
    expected: dict[str, Any]
    observed: dict[str, Any]

    @property
    def description(self) -> str:
        what = {"claims": "claim lines", "notes": "note rows", "plans": "plans of care"}
        text = DESCRIPTIONS[self.name]
        return text.format(what=what[self.export], **self.expected)


DESCRIPTIONS = {
    "row_count": "The number of accepted {what} is within the expected range.",
    "unknown_code_share": "Share of {what} whose procedure code is in none of the payer "
    "profiles' code sets (only the code-independent rules audit them).",
    "timed_units_mean": "Mean units per claim line of each timed 15-minute code is plausible.",
    "timed_units_share_above": "Share of each timed code's claim lines billed with more than "
    "{max_units_per_line} units.",
    "service_dates_in_period": "Share of {what} with a service date outside the audit period.",
    "without_times_share": "Share of note rows (documented services) without a start or an "
    "end time.",
}


def share(part: int, whole: int) -> float:
    """part / whole, 0.0 for an empty whole (an empty export has no share of anything)."""
    return part / whole if whole else 0.0


def date_stats(frame: Lines, period: tuple[date, date] | None) -> dict[str, Any]:
    """Rows with a service date outside `period` (inclusive; none without a period), and the
    first and last service dates."""
    d = pl.col("service_date")
    outside = ~d.is_between(period[0], period[1]) if period else pl.lit(False)
    lo, hi, n, rows = (
        frame.lazy()
        .select(d.min(), d.max().alias("hi"), outside.sum().alias("n"), pl.len().alias("rows"))
        .collect(engine=engine_of(frame))
        .row(0)
    )
    n = int(n or 0)
    return {
        "share": share(n, rows),
        "rows_outside": n,
        "min": lo.isoformat() if lo else None,
        "max": hi.isoformat() if hi else None,
        "rows": rows,
    }


def unknown_stats(frame: Lines, known: frozenset[str]) -> dict[str, Any]:
    """Rows whose procedure code is not in `known`, and the ten most frequent such codes."""
    per_code = (
        frame.lazy()
        .select("procedure_code")
        .filter(~pl.col("procedure_code").is_in(list(known)))
        .group_by("procedure_code")
        .len()
        .sort(["len", "procedure_code"], descending=[True, False])
        .collect(engine=engine_of(frame))
    )
    unknown = int(per_code["len"].sum())
    rows = line_count(frame)
    return {
        "share": share(unknown, rows),
        "rows_unknown": unknown,
        # enough to name the culprits; rows_unknown says how many lines
        "codes": per_code["procedure_code"].head(10).to_list(),
        "rows": rows,
    }


def timed_units(claims: Lines, timed: frozenset[str], cfg: dict[str, Any]) -> pl.DataFrame:
    """One row per timed code billed: lines, mean units, lines and share above the cap.

    Codes with fewer than min_lines lines get null mean/share: GE treats null as missing, not
    unexpected, so those codes are counted but not judged.
    """
    judged = pl.col("lines") >= cfg["timed_units.min_lines"]
    return (
        claims.lazy()
        .filter(pl.col("procedure_code").is_in(list(timed)))
        .group_by("procedure_code")
        .agg(
            pl.len().cast(pl.Int64).alias("lines"),
            pl.col("units").mean().alias("mean_units"),
            (pl.col("units") > cfg["timed_units.max_units_per_line"]).sum().alias("lines_above"),
        )
        .with_columns(
            pl.when(judged).then(pl.col("mean_units")).alias("mean_units"),
            pl.when(judged).then(pl.col("lines_above") / pl.col("lines")).alias("share_above"),
        )
        .sort("procedure_code")
        .collect(engine=engine_of(claims))
    )


def specs(
    frames: Mapping[str, Lines],
    period: tuple[date, date] | None,
    cfg: dict[str, Any],
    known: frozenset[str],
    per_code: pl.DataFrame,
) -> list[Spec]:
    """Every expectation with its observed figures, in the fixed order. `cfg`: the thresholds
    (flat keys such as "timed_units.min_lines"); `per_code`: timed_units' frame; `period`
    None: the first to the last claim service date."""
    claims, notes = frames["claims"], frames["notes"]
    source = "given"
    if period is None:
        d = pl.col("service_date")
        lo, hi = (
            claims.lazy()
            .select(d.min(), d.max().alias("hi"))
            .collect(engine=engine_of(claims))
            .row(0)
        )
        period = (lo, hi) if lo is not None else None
        source = "derived from the claim service dates"

    def row_count(e: str) -> Spec:
        lo, hi = cfg.get(f"row_counts.{e}.min"), cfg.get(f"row_counts.{e}.max")
        bounds = {"min": lo, "max": hi}
        return Spec(e, "row_count", f"{e}__rows", lo, hi, bounds, {"rows": line_count(frames[e])})

    def unknown_codes(e: str) -> Spec:
        limit = cfg["unknown_codes.max_share"]
        stats = unknown_stats(frames[e], known)
        column = f"{e}__unknown_share"
        return Spec(e, "unknown_code_share", column, None, limit, {"max_share": limit}, stats)

    def in_period(e: str) -> Spec:
        limit = cfg["service_dates.max_share_outside"]
        expected = {
            "period": [d.isoformat() for d in period] if period else None,
            "period_source": source,
            "max_share_outside": limit,
        }
        stats = date_stats(frames[e], period)
        return Spec(
            e, "service_dates_in_period", f"{e}__outside_share", None, limit, expected, stats
        )

    judged = per_code.filter(pl.col("mean_units").is_not_null()).height
    code_counts = {"codes_checked": judged, "codes_below_min_lines": per_code.height - judged}
    lines = {"min_lines": cfg["timed_units.min_lines"]}
    lo_mean, hi_mean = cfg["timed_units.min_mean"], cfg["timed_units.max_mean"]
    cap, above = cfg["timed_units.max_units_per_line"], cfg["timed_units.max_share_above"]
    missing = pl.col("start_time").is_null() | pl.col("end_time").is_null()
    no_times = int(notes.lazy().select(missing.sum()).collect(engine=engine_of(notes)).item() or 0)
    limit = cfg["notes_without_times.max_share"]
    note_rows = line_count(notes)
    times = {"share": share(no_times, note_rows), "rows_without_times": no_times}
    return [
        row_count("claims"),
        unknown_codes("claims"),
        Spec("claims", "timed_units_mean", "mean_units", lo_mean, hi_mean,
             {**lines, "min_mean": lo_mean, "max_mean": hi_mean}, dict(code_counts)),
        Spec("claims", "timed_units_share_above", "share_above", 0, above,
             {**lines, "max_units_per_line": cap, "max_share_above": above}, dict(code_counts)),
        in_period("claims"),
        row_count("notes"),
        Spec("notes", "without_times_share", "notes__without_times_share", None, limit,
             {"max_share": limit}, {**times, "rows": note_rows}),
        unknown_codes("notes"),
        in_period("notes"),
        row_count("plans"),
    ]  # fmt: skip


def failing_codes(codes: list[str], per_code: pl.DataFrame, column: str) -> list[dict[str, Any]]:
    """The per-code rows of the timed `codes` that failed the expectation on `column`."""
    cols = ["lines", "mean_units"] if column == "mean_units" else ["lines", "lines_above", column]
    rows = per_code.filter(pl.col("procedure_code").is_in(codes)).select("procedure_code", *cols)
    return rounded(rows.to_dicts())


def rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Floats to 6 decimals, for summary.json."""
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def describe(spec: Spec, outcome: Mapping[str, Any], per_code: pl.DataFrame) -> dict[str, Any]:
    """One JSON-able result from an expectation's outcome {success, codes, error}: `codes` are
    the timed codes that failed a per-code expectation, `error` what GE raised, if it did."""
    observed = dict(spec.observed)
    if "share" in observed:
        observed["share"] = round(observed["share"], 6)
    if spec.column in CODE_COLUMNS:
        observed["failing"] = failing_codes(outcome["codes"], per_code, spec.column)
    if spec.name == "timed_units_mean":  # the distribution itself, for the report's table
        observed["by_code"] = rounded(per_code.to_dicts())
    if outcome["error"] is not None:
        observed["error"] = outcome["error"]
    return {
        "name": spec.name,
        "export": spec.export,
        "success": outcome["success"],
        "observed": observed,
        "expected": spec.expected,
        "description": spec.description,
    }
