"""Dataset expectations: Great Expectations checks on each export's accepted rows as a whole.

Pandera (schemas/contract.py) checks values one row at a time; these check what only the whole
export shows: too few or too many rows, many notes without times, implausible units per timed
code, many codes outside the known code sets, dates outside the audit period. A failure never
stops the audit: it tells the reader how far to trust the findings.

API (a plain stage function; the flow runs it alongside the rules):

    run_expectations(claims, notes, plans, *, period=None, config_path=None, known_codes=None)
        -> list[dict]
    preload_great_expectations() -> None

`claims`, `notes`, `plans` are the accepted typed frames (`ValidationSummary.claims` ...). Used
columns: claims `service_date`, `procedure_code`, `units`; notes `service_date`,
`procedure_code`, `start_time`, `end_time`; plans: row count only. `period` is the audit period
(inclusive); without it the period is the first to the last claim service date. `config_path` is
an expectations TOML that overrides `data/expectations.toml` key by key (unknown key or bad
value -> `ExpectationsConfigError`, an `InputError`, naming the key and the file).
`known_codes` overrides the known code set (default: every code listed in the shipped profiles).

Each result is JSON-able, in this fixed order (export, name):
claims row_count, unknown_code_share, timed_units_mean, timed_units_share_above,
service_dates_in_period; notes row_count, without_times_share, unknown_code_share,
service_dates_in_period; plans row_count.

    {"name": "unknown_code_share", "export": "claims", "success": true,
     "observed": {"share": 0.0012, "rows_unknown": 3, "codes": ["99213"], "rows": 2434},
     "expected": {"max_share": 0.01},
     "description": "Share of claim lines whose procedure code ..."}

`observed` and `expected` are always dicts of counts, shares (6 decimals), ISO dates and
procedure codes, never patient data. `observed` keys: row_count {rows}; *_share {share, rows,
rows_unknown + codes (top 10) | rows_without_times}; service_dates_in_period {share,
rows_outside, min, max, rows} with expected {period: [start, end] | null, period_source,
max_share_outside}; timed_units_* {codes_checked, codes_below_min_lines, failing: [{procedure_code,
lines, ...}]}, and timed_units_mean also by_code: [{procedure_code, lines, mean_units,
lines_above, share_above}] (the distribution, for a table). If GE itself raised, success is false
and observed has "error".

Speed: importing great_expectations takes ~4 s (~9 s without compiled bytecode), so it is never
imported at module import. At 10 million lines nothing is converted to pandas whole: polars
reduces each export to a few numbers (one metrics row) and one row per timed code, and GE
validates those small frames (flows/expectations/runner.py: in an ephemeral context, with progress
bars and analytics off, in the audit's GE worker process when one was started).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from flows.expectations.config import (
    DEFAULT_CONFIG,
    ExpectationsConfigError,
    known_code_sets,
    load_config,
)

# the thresholds live in flows/expectations/config.py; re-exported for callers of this module
from flows.expectations.runner import Check, evaluate, preload_great_expectations

__all__ = [
    "DEFAULT_CONFIG",
    "ExpectationsConfigError",
    "known_code_sets",
    "load_config",
    "preload_great_expectations",
    "run_expectations",
]


# ------------------------------------------------------------------------- polars reductions
@dataclass
class _Spec:
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
        text = _DESCRIPTIONS[self.name]
        return text.format(what=what[self.export], **self.expected)


_DESCRIPTIONS = {
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


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _date_stats(frame: pl.DataFrame, period: tuple[date, date] | None) -> dict[str, Any]:
    d = pl.col("service_date")
    outside = ~d.is_between(period[0], period[1]) if period else pl.lit(False)
    lo, hi, n = frame.select(d.min(), d.max().alias("hi"), outside.sum().alias("n")).row(0)
    n = int(n or 0)
    return {
        "share": _share(n, frame.height),
        "rows_outside": n,
        "min": lo.isoformat() if lo else None,
        "max": hi.isoformat() if hi else None,
        "rows": frame.height,
    }


def _unknown_stats(frame: pl.DataFrame, known: frozenset[str]) -> dict[str, Any]:
    unknown = frame.select("procedure_code").filter(~pl.col("procedure_code").is_in(list(known)))
    top = (
        unknown.group_by("procedure_code")
        .len()
        .sort(["len", "procedure_code"], descending=[True, False])
        .head(10)  # enough to name the culprits; rows_unknown says how many lines
    )
    return {
        "share": _share(unknown.height, frame.height),
        "rows_unknown": unknown.height,
        "codes": top["procedure_code"].to_list(),
        "rows": frame.height,
    }


def _timed_units(claims: pl.DataFrame, timed: frozenset[str], cfg: dict[str, Any]) -> pl.DataFrame:
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
        .collect()
    )


def _specs(
    frames: dict[str, pl.DataFrame],
    period: tuple[date, date] | None,
    cfg: dict[str, Any],
    known: frozenset[str],
    per_code: pl.DataFrame,
) -> list[_Spec]:
    claims, notes = frames["claims"], frames["notes"]
    source = "given"
    if period is None:
        d = pl.col("service_date")
        lo, hi = claims.select(d.min(), d.max().alias("hi")).row(0)
        period = (lo, hi) if lo is not None else None
        source = "derived from the claim service dates"

    def row_count(e: str) -> _Spec:
        lo, hi = cfg.get(f"row_counts.{e}.min"), cfg.get(f"row_counts.{e}.max")
        bounds = {"min": lo, "max": hi}
        return _Spec(e, "row_count", f"{e}__rows", lo, hi, bounds, {"rows": frames[e].height})

    def unknown_codes(e: str) -> _Spec:
        limit = cfg["unknown_codes.max_share"]
        stats = _unknown_stats(frames[e], known)
        column = f"{e}__unknown_share"
        return _Spec(e, "unknown_code_share", column, None, limit, {"max_share": limit}, stats)

    def in_period(e: str) -> _Spec:
        limit = cfg["service_dates.max_share_outside"]
        expected = {
            "period": [d.isoformat() for d in period] if period else None,
            "period_source": source,
            "max_share_outside": limit,
        }
        stats = _date_stats(frames[e], period)
        return _Spec(
            e, "service_dates_in_period", f"{e}__outside_share", None, limit, expected, stats
        )

    judged = per_code.filter(pl.col("mean_units").is_not_null()).height
    code_counts = {"codes_checked": judged, "codes_below_min_lines": per_code.height - judged}
    lines = {"min_lines": cfg["timed_units.min_lines"]}
    lo_mean, hi_mean = cfg["timed_units.min_mean"], cfg["timed_units.max_mean"]
    cap, above = cfg["timed_units.max_units_per_line"], cfg["timed_units.max_share_above"]
    missing = pl.col("start_time").is_null() | pl.col("end_time").is_null()
    no_times = int(notes.select(missing.sum()).item() or 0)
    limit = cfg["notes_without_times.max_share"]
    times = {"share": _share(no_times, notes.height), "rows_without_times": no_times}
    return [
        row_count("claims"),
        unknown_codes("claims"),
        _Spec("claims", "timed_units_mean", "mean_units", lo_mean, hi_mean,
              {**lines, "min_mean": lo_mean, "max_mean": hi_mean}, dict(code_counts)),
        _Spec("claims", "timed_units_share_above", "share_above", 0, above,
              {**lines, "max_units_per_line": cap, "max_share_above": above}, dict(code_counts)),
        in_period("claims"),
        row_count("notes"),
        _Spec("notes", "without_times_share", "notes__without_times_share", None, limit,
              {"max_share": limit}, {**times, "rows": notes.height}),
        unknown_codes("notes"),
        in_period("notes"),
        row_count("plans"),
    ]  # fmt: skip


def _failing_codes(codes: list[str], per_code: pl.DataFrame, column: str) -> list[dict]:
    cols = ["lines", "mean_units"] if column == "mean_units" else ["lines", "lines_above", column]
    rows = per_code.filter(pl.col("procedure_code").is_in(codes)).select("procedure_code", *cols)
    return _rounded(rows.to_dicts())


def _rounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: round(v, 6) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


def run_expectations(
    claims: pl.DataFrame,
    notes: pl.DataFrame,
    plans: pl.DataFrame,
    *,
    period: tuple[date, date] | None = None,
    config_path: Path | None = None,
    known_codes: Iterable[str] | None = None,
) -> list[dict[str, Any]]:
    """Run every dataset expectation; results in a fixed order (see the module docstring)."""
    cfg = load_config(config_path)
    known, timed = known_code_sets()
    if known_codes is not None:
        known = frozenset(str(c).strip().upper() for c in known_codes)
    frames = {"claims": claims, "notes": notes, "plans": plans}
    # polars reduces every export to a handful of numbers first: this is what stays fast at 10M
    per_code = _timed_units(claims, timed, cfg)
    specs = _specs(frames, period, cfg, known, per_code)
    code_columns = {"mean_units", "share_above"}
    scalar = {s.column: s for s in specs if s.column not in code_columns}
    # the one-row metrics frame: a share where the expectation is about a share, else the count
    metrics = {c: [s.observed.get("share", s.observed.get("rows"))] for c, s in scalar.items()}

    code_checks: list[Check] = [
        ("each", s.column, s.lo, s.hi) for s in specs if s.column in code_columns
    ]
    code_frame = per_code.select("procedure_code", *sorted(code_columns)).to_dict(as_series=False)
    results = evaluate(
        [
            ("metrics", metrics, [("max", c, s.lo, s.hi) for c, s in scalar.items()]),
            ("timed_units", code_frame, code_checks),
        ]
    )

    out: list[dict[str, Any]] = []
    for spec in specs:
        result = results[spec.column]
        observed = dict(spec.observed)
        if "share" in observed:
            observed["share"] = round(observed["share"], 6)
        if spec.column in code_columns:
            observed["failing"] = _failing_codes(result["codes"], per_code, spec.column)
        if spec.name == "timed_units_mean":  # the distribution itself, for the report's table
            observed["by_code"] = _rounded(per_code.to_dicts())
        if result["error"] is not None:
            observed["error"] = result["error"]
        out.append(
            {
                "name": spec.name,
                "export": spec.export,
                "success": result["success"],
                "observed": observed,
                "expected": spec.expected,
                "description": spec.description,
            }
        )
    return out
