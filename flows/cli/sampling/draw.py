"""`sample draw`: number the universe of a finished audit (frame.csv), draw the RAT-STATS sample
from it, and write the review worksheet (CSV and XLSX, pre-filled from the audit's findings), its
spares and the sampling plan (JSON and HTML)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from checks.sampling.frame import (
    SINGLE_STRATUM,
    allocate,
    draw_strata,
    drawn_rows,
    frame_units,
    prefill,
    stratify,
    stratum_ranges,
    unit_lines,
)
from checks.sampling.rng import GENERATOR
from flows.cli.sampling.plan import (
    ESTIMATOR,
    GENERATOR_SOURCE,
    MISSING,
    ORDER_TEXT,
    PLAN_HTML,
    PLAN_JSON,
    UNIT_TEXT,
    describe_design,
    frame_differences,
    plan_html,
    strata_json,
)
from flows.cli.sampling.universe import load_universe
from flows.outputs.atomic import replacing, write_text
from flows.outputs.safe_csv import write_csv
from flows.outputs.xlsx.workbook import XLSX_OPTIONS, safe_text
from flows.run.provenance import program_version, sha256_file

FRAME_CSV = "frame.csv"
WORKSHEET_CSV = "worksheet.csv"
SPARES_CSV = "worksheet-spares.csv"
WORKSHEET_XLSX = "worksheet.xlsx"
REVIEW_COLUMNS = ("reviewer", "determination", "reviewed_on", "notes")
WORKSHEET_COLUMNS = (
    "frame_number",
    "unit_id",
    "stratum",
    "stratum_frame_number",
    "selection_order",
    "examined_amount",
    "audited_amount",
    "amount_at_risk",
    "findings",
    "evidence",
    *REVIEW_COLUMNS,
)
_MONEY = ("examined_amount", "audited_amount", "amount_at_risk")


def clock_seed(now: float | None = None) -> float:
    """A seed from the clock when none is given: seconds within the day with hundredths
    (0 to 86399.99), a number RAT-STATS accepts as its seed."""
    return round((time.time() if now is None else now) % 86400, 2)


def _dollars(column: str, alias: str) -> pl.Expr:
    return (pl.col(column) / 100).round(2).alias(alias)


def _frame_csv(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select(
        "frame_number",
        "unit_id",
        "stratum",
        "stratum_frame_number",
        _dollars("examined_cents", "examined_amount"),
        "lines",
    )


def _worksheet(rows: pl.DataFrame) -> pl.DataFrame:
    return (
        rows.sort("stratum_frame_number")
        .sort("stratum", maintain_order=True)
        .select(
            "frame_number",
            "unit_id",
            "stratum",
            "stratum_frame_number",
            "selection_order",
            _dollars("examined_cents", "examined_amount"),
            _dollars("audited_cents", "audited_amount"),
            _dollars("at_risk_cents", "amount_at_risk"),
            "findings",
            "evidence",
            *(pl.lit(None, pl.String).alias(c) for c in REVIEW_COLUMNS),
        )
    )


def _sheet(wb: Any, name: str, df: pl.DataFrame, fmt: dict[str, Any]) -> None:
    ws = wb.add_worksheet(name)
    for col, column in enumerate(df.columns):
        ws.write_string(0, col, column, fmt["head"])
        ws.set_column(col, col, 60 if column == "evidence" else 16)
    for r, row in enumerate(df.iter_rows(), start=1):
        for col, (column, value) in enumerate(zip(df.columns, row, strict=True)):
            if value is None:
                continue
            if column in _MONEY:
                ws.write_number(r, col, float(value), fmt["money"])
            elif isinstance(value, int):
                ws.write_number(r, col, value)
            else:  # text is written as text, never as a formula (flows/outputs/safe_csv.py)
                ws.write_string(r, col, safe_text(value))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(df.height, 1), len(df.columns) - 1)


def write_workbook(path: Path, sample: pl.DataFrame, spares: pl.DataFrame) -> None:
    wb = xlsxwriter.Workbook(
        str(path), {k: v for k, v in XLSX_OPTIONS.items() if k != "constant_memory"}
    )
    fmt = {"head": wb.add_format({"bold": True}), "money": wb.add_format({"num_format": "0.00"})}
    _sheet(wb, "Sample", sample, fmt)
    _sheet(wb, "Spares", spares, fmt)
    wb.close()


def parse_size(text: str) -> int | tuple[int, ...]:
    """`n` (the total) or `n1,n2,...` (one per stratum)."""
    from checks.sampling.rng import SamplingError

    parts = [p.strip() for p in text.split(",")]
    if not all(p.isdigit() and int(p) >= 1 for p in parts):
        raise SamplingError("--size must be a whole number of at least 1, or one per stratum")
    sizes = tuple(int(p) for p in parts)
    return sizes[0] if len(sizes) == 1 else sizes


def draw_sample(
    audit: Path,
    out: Path,
    *,
    unit: str,
    size: int | tuple[int, ...],
    seed: float | None,
    spares: int = 0,
    bounds: tuple[int, ...] = (),
    now: datetime | None = None,
    inputs: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """Write frame.csv, the worksheet (CSV, XLSX, spares) and the sampling plan into `out`;
    return the plan. `inputs`: the audit's input paths (export -> path) where run.json has
    none (a --redact run) or they moved."""
    seed_from_clock = seed is None
    seed = clock_seed() if seed is None else seed
    universe = load_universe(audit, patient_ids=unit == "patient-day", inputs=inputs)
    lines = unit_lines(universe.claims.lazy(), unit).collect()
    all_units = frame_units(lines.lazy(), unit)
    counts = lines.lazy().select(pl.col("unit_id").n_unique()).collect().item()
    frame = stratify(all_units, bounds, unit).collect()
    if frame.height == 0:
        from checks.sampling.rng import SamplingError

        raise SamplingError("the audit's frame is empty: no claim line with a paid amount")
    per_stratum = frame.group_by("stratum", maintain_order=True).agg(
        pl.len().alias("n"), pl.col("examined_cents").sum().alias("paid")
    )
    ranges = stratum_ranges(bounds)
    frame_sizes = {h: 0 for h in ranges}
    frame_sizes.update(dict(zip(per_stratum["stratum"], per_stratum["n"], strict=True)))
    examined = dict(zip(per_stratum["stratum"], per_stratum["paid"], strict=True))
    sizes = allocate(frame_sizes, size)
    draws = draw_strata(frame_sizes, sizes, seed, spares)
    chosen = drawn_rows(draws).join(frame, on=["stratum", "stratum_frame_number"])
    rows = prefill(chosen.lazy(), lines.lazy(), universe.findings.lazy()).collect()
    out.mkdir(parents=True, exist_ok=True)
    # the plan is written last and vouches for the files beside it (its frame's SHA-256): a
    # previous draw's goes first, so that a draw that fails halfway leaves no plan at all
    (out / PLAN_JSON).unlink(missing_ok=True)
    _atomic_csv(_frame_csv(frame), out / FRAME_CSV)
    sample = _worksheet(rows.filter(pl.col("role") == "sample"))
    spare_rows = rows.filter(pl.col("role") == "spare").sort("stratum", "selection_order")
    spare_sheet = _worksheet(spare_rows).sort("stratum", "selection_order")
    _atomic_csv(sample, out / WORKSHEET_CSV)
    _atomic_csv(spare_sheet, out / SPARES_CSV)
    with replacing(out / WORKSHEET_XLSX) as partial:
        write_workbook(partial, sample, spare_sheet)
    run = universe.run
    claims = run["inputs"]["claims"]
    options = run.get("options") or {}
    stratified = bool(bounds)
    plan = {
        "plan": "Sampling plan (OIG Provider Self-Disclosure Protocol, 2013, §III.B)",
        "program": {"name": "therapy-audit", "version": program_version()},
        "created_at": (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "audit": {
            "folder": str(audit.resolve()),
            "run_id": run.get("run_id"),
            "period": options.get("period"),
            "profile": options.get("profile"),
            "claims": {
                "name": claims.get("name"),
                "path": claims["path"],
                "sha256": universe.claims_sha256,
            },
        },
        "sampling_unit": {"unit": unit, "definition": UNIT_TEXT[unit]},
        "universe": {
            "definition": f"Every {unit} of the audited claims export with a paid amount above 0.",
            "claim_lines_read": universe.rows_read,
        },
        "frame": {
            "file": FRAME_CSV,
            "sha256": sha256_file(out / FRAME_CSV),
            "units": frame.height,
            "claim_lines": int(frame["lines"].sum()),
            "examined_total": round(int(frame["examined_cents"].sum()) / 100, 2),
            "order": f"stratum, then {ORDER_TEXT[unit]}; frame_number 1..N in that order",
            "excluded": {
                "claim_lines_quarantined": universe.rows_quarantined,
                "claim_lines_filtered": universe.rows_filtered,
                "claim_lines_outside_period": universe.rows_outside_period,
                "units_not_paid": counts - frame.height,
            },
            "differences": frame_differences(
                unit,
                universe.rows_quarantined,
                universe.rows_outside_period,
                counts - frame.height,
            ),
        },
        "sample_size": {
            "total": sum(sizes.values()),
            "per_stratum": sizes,
            "spares_per_stratum": spares,
            "note": "Chosen by the user (--size). The OIG Provider Self-Disclosure Protocol asks "
            "for at least 100 units; `therapy-audit sample size` sizes a sample from a probe.",
        },
        "random_numbers": {
            "source": GENERATOR_SOURCE,
            "generator": GENERATOR,
            "seed": int(seed) if float(seed).is_integer() else seed,
            "seed_from_clock": seed_from_clock,
        },
        "design": {
            "type": "stratified" if stratified else "simple random",
            "description": describe_design(stratified),
            "strata_bounds": [round(b / 100, 2) for b in bounds],
            "strata": strata_json(draws, ranges, examined),
        },
        "selection": "Without replacement: a random number already drawn is drawn again; the "
        "first n numbers are the sample, the rest the spares in selection order.",
        "missing_items": MISSING,
        "estimator": ESTIMATOR,
        "universe_sizes": {d.stratum: d.frame_size for d in draws},
        "files": [FRAME_CSV, WORKSHEET_CSV, WORKSHEET_XLSX, SPARES_CSV, PLAN_JSON, PLAN_HTML],
    }
    write_text(out / PLAN_HTML, plan_html(plan))
    write_text(out / PLAN_JSON, json.dumps(plan, indent=2) + "\n")
    return plan


def _atomic_csv(frame: pl.DataFrame, final: Path) -> None:
    """`frame` as CSV (formulas neutralised) under a temporary name, renamed into place."""
    with replacing(final) as partial:
        write_csv(frame, partial)


def plan_universe(worksheet: Path) -> dict[str, int] | None:
    """Universe sizes per stratum from the sampling-plan.json beside a drawn worksheet."""
    path = worksheet.parent / PLAN_JSON
    if not path.is_file():
        return None
    try:
        sizes = json.loads(path.read_text(encoding="utf-8"))["universe_sizes"]
        return {str(k): int(v) for k, v in sizes.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


__all__ = ["SINGLE_STRATUM", "draw_sample", "parse_size", "plan_universe"]
