"""The sampling frame of an audit's universe, its strata, the RAT-STATS draw on it and the
worksheet rows pre-filled from the audit's findings. Pure polars: the caller reads the files.

Universe and frame (OIG Provider Self-Disclosure Protocol, sampling plan: "sampling frame" and
"how it differs from the population"): the universe is every unit of the claims export with a
paid amount above 0; the frame is the units of the claim lines that passed the input contract,
so lines quarantined by validation are in neither the frame nor the worksheet, and the plan says
how many. Units:

- `line`: one claim service line, unit_id `claim_id:line_number`;
- `claim`: every line of one claim, unit_id `claim_id`;
- `patient-day`: every line of one patient on one date of service, unit_id
  `patient_id:YYYY-MM-DD` (a cluster, as CMS Pub. 100-08 Ch. 8 §8.4.3.2 allows).

The examined amount of a unit is the sum of its lines' paid amounts, each rounded to cents (a
blank paid amount counts as 0). Frame order, which fixes frame_number 1..N: stratum (1, 2, ...),
then claim_id and line_number (line), claim_id (claim) or patient_id and service_date
(patient-day), ids in code-point (text) order and line numbers in numeric order.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import polars as pl

from checks.sampling.rng import SamplingError, random_numbers

UNITS = ("claim", "line", "patient-day")
SINGLE_STRATUM = "all"
_KEYS = {
    "line": ("claim_id", "line_number"),
    "claim": ("claim_id",),
    "patient-day": ("patient_id", "service_date"),
}


def cents(amount: str) -> pl.Expr:
    """A money column in whole cents (Int64), each amount rounded to cents; blank counts as 0."""
    return (pl.col(amount).cast(pl.Float64).fill_null(0.0) * 100).round(0).cast(pl.Int64)


def unit_lines(claims: pl.LazyFrame, unit: str) -> pl.LazyFrame:
    """Each accepted claim line with its unit_id and paid amount in cents (`paid`, 0 when blank):
    claim_id, line_number, unit_id, paid (cents, Int64), plus the unit's sort keys."""
    if unit not in UNITS:
        raise SamplingError(f"unknown sampling unit '{unit}' (use {', '.join(UNITS)})")
    lines = claims.select(
        pl.col("claim_id").cast(pl.String),
        pl.col("line_number").cast(pl.Int64),
        pl.col("patient_id").cast(pl.String),
        pl.col("service_date").cast(pl.Date),
        cents("paid_amount").alias("paid"),
    )
    unit_id = {
        "line": pl.format("{}:{}", "claim_id", "line_number"),
        "claim": pl.col("claim_id"),
        "patient-day": pl.format("{}:{}", "patient_id", pl.col("service_date").dt.to_string()),
    }[unit]
    return lines.with_columns(unit_id.alias("unit_id"))


def frame_units(lines: pl.LazyFrame, unit: str) -> pl.LazyFrame:
    """One row per unit with paid amount above 0, in frame order (before strata): unit_id,
    lines, examined_cents and the sort keys."""
    keys = list(_KEYS[unit])
    return (
        lines.group_by("unit_id", *keys)
        .agg(pl.len().alias("lines"), pl.col("paid").sum().alias("examined_cents"))
        .filter(pl.col("examined_cents") > 0)
        .sort(keys)
    )


def parse_bounds(text: str) -> tuple[int, ...]:
    """`--strata` BOUNDS: ascending dollar amounts separated by commas, e.g. `100,500`: stratum 1
    holds units paid up to $100.00, stratum 2 above $100.00 up to $500.00, stratum 3 above $500.00.
    Returned in cents."""
    parts = [p.strip().replace("$", "") for p in text.split(",")]
    try:
        cents = [round(float(p) * 100) for p in parts]
    except ValueError:
        raise SamplingError(
            "--strata needs dollar bounds separated by commas, e.g. 100,500"
        ) from None
    if not cents or any(c <= 0 or not math.isfinite(c) for c in cents):
        raise SamplingError("--strata bounds must be amounts above 0, e.g. 100,500")
    if any(b <= a for a, b in itertools.pairwise(cents)):
        raise SamplingError("--strata bounds must increase, e.g. 100,500")
    return tuple(cents)


def stratify(units: pl.LazyFrame, bounds: tuple[int, ...], unit: str) -> pl.LazyFrame:
    """Frame rows: frame_number (1..N), stratum, stratum_frame_number (1..N_h), unit_id, lines,
    examined_cents. Without bounds every unit is in the stratum `all`."""
    if bounds:
        index = pl.lit(1, pl.Int32)
        for bound in bounds:
            index = index + (pl.col("examined_cents") > bound).cast(pl.Int32)
        units = units.with_columns(index.alias("_h"))
    else:
        units = units.with_columns(pl.lit(1, pl.Int32).alias("_h"))
    ordered = units.sort("_h", *_KEYS[unit], maintain_order=True)
    stratum = pl.col("_h").cast(pl.String) if bounds else pl.lit(SINGLE_STRATUM)
    return ordered.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("frame_number"),
        stratum.alias("stratum"),
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("_h").alias("stratum_frame_number"),
        "unit_id",
        "lines",
        "examined_cents",
    )


def stratum_ranges(bounds: tuple[int, ...]) -> dict[str, tuple[int | None, int | None]]:
    """Each stratum's (above, up to) examined amount in cents; None where open."""
    if not bounds:
        return {SINGLE_STRATUM: (None, None)}
    edges: list[int | None] = [None, *bounds, None]
    return {str(h): (edges[h - 1], edges[h]) for h in range(1, len(bounds) + 2)}


def allocate(frame_sizes: dict[str, int], size: int | tuple[int, ...]) -> dict[str, int]:
    """Sample size per stratum: the sizes given, one per stratum in order, or `size` shared in
    proportion to the strata's frame sizes (largest remainders, at least 1 each)."""
    names = list(frame_sizes)
    if isinstance(size, tuple):
        if len(size) != len(names):
            raise SamplingError(
                f"--size gives {len(size)} sizes for {len(names)} strata (give one per stratum "
                "or one total)"
            )
        return dict(zip(names, size, strict=True))
    total = sum(frame_sizes.values())
    if size < len(names):
        raise SamplingError(f"--size {size} is smaller than the number of strata ({len(names)})")
    if total == 0:
        return dict.fromkeys(names, size)
    quotas = {h: size * n / total for h, n in frame_sizes.items()}
    out = {h: max(1, math.floor(q)) for h, q in quotas.items()}
    by_remainder = sorted(
        names, key=lambda h: (-(quotas[h] - math.floor(quotas[h])), names.index(h))
    )
    for h in _cycle(by_remainder, size - sum(out.values())):
        out[h] += 1
    return out


def _cycle(names: list[str], count: int) -> list[str]:
    """The first `count` names, cycling (a shortfall larger than the strata is spread evenly)."""
    return [names[i % len(names)] for i in range(max(count, 0))]


@dataclass(frozen=True)
class StratumDraw:
    stratum: str
    seed: float
    frame_size: int
    sample_size: int
    spares: int
    wichmann_hill_seeds: tuple[int, int, int]
    selection_order: tuple[int, ...]
    spare_order: tuple[int, ...]
    total: int


def draw_strata(
    frame_sizes: dict[str, int], sizes: dict[str, int], seed: float, spares: int
) -> list[StratumDraw]:
    """RAT-STATS single-stage random numbers per stratum on its frame numbers 1..N_h. Stratum h
    (in order, from 1) uses the seed + (h - 1), so each stratum can be re-drawn in RAT-STATS's
    single-stage module and no two strata share a random sequence."""
    out = []
    for offset, (name, frame_size) in enumerate(frame_sizes.items()):
        n = sizes[name]
        if frame_size == 0:
            raise SamplingError(f"stratum {name} has no units in the frame: change --strata")
        if n + spares > frame_size:
            raise SamplingError(
                f"stratum {name}: sample ({n}) plus spares ({spares}) exceed its frame "
                f"({frame_size} units)"
            )
        drawn = random_numbers(seed + offset, frame_size, n, spares)
        out.append(
            StratumDraw(
                name,
                seed + offset,
                frame_size,
                n,
                spares,
                drawn.wichmann_hill_seeds,
                drawn.selection_order,
                drawn.spares,
                drawn.total,
            )
        )
    return out


def drawn_rows(draws: list[StratumDraw]) -> pl.DataFrame:
    """stratum, stratum_frame_number, role (sample|spare), selection_order (1.. per stratum)."""
    rows = [
        (d.stratum, number, role, i)
        for d in draws
        for role, numbers in (("sample", d.selection_order), ("spare", d.spare_order))
        for i, number in enumerate(numbers, start=1 if role == "sample" else d.sample_size + 1)
    ]
    return pl.DataFrame(
        rows,
        schema={
            "stratum": pl.String,
            "stratum_frame_number": pl.Int64,
            "role": pl.String,
            "selection_order": pl.Int64,
        },
        orient="row",
    )


def prefill(sampled: pl.LazyFrame, lines: pl.LazyFrame, findings: pl.LazyFrame) -> pl.LazyFrame:
    """Worksheet rows for the `sampled` frame rows: at_risk_cents (each line of the unit once, at
    its largest amount_at_risk), audited_cents = examined - at risk (not below 0), findings (the
    rule ids, sorted) and evidence ("RULE claim:line: evidence", one per finding, "; "-joined)."""
    per_finding = findings.select(
        pl.col("claim_id").cast(pl.String),
        pl.col("line_number").cast(pl.Int64),
        pl.col("rule_id").cast(pl.String),
        cents("amount_at_risk").alias("risk"),
        pl.format(
            "{} {}:{}: {}",
            "rule_id",
            "claim_id",
            "line_number",
            pl.col("evidence").cast(pl.String).fill_null(""),
        ).alias("evidence"),
    ).join(lines.select("claim_id", "line_number", "unit_id"), on=["claim_id", "line_number"])
    per_line = per_finding.group_by("unit_id", "claim_id", "line_number").agg(pl.col("risk").max())
    risk = per_line.group_by("unit_id").agg(pl.col("risk").sum().alias("at_risk_cents"))
    text = (
        per_finding.sort("claim_id", "line_number", "rule_id", "evidence")
        .group_by("unit_id", maintain_order=True)
        .agg(
            pl.col("rule_id").unique().sort().str.join("; ").alias("findings"),
            pl.col("evidence").str.join("; ").alias("evidence"),
        )
    )
    out = sampled.join(risk, on="unit_id", how="left").join(text, on="unit_id", how="left")
    at_risk = pl.col("at_risk_cents").fill_null(0)
    return out.with_columns(
        at_risk.alias("at_risk_cents"),
        pl.max_horizontal(pl.col("examined_cents") - at_risk, pl.lit(0)).alias("audited_cents"),
        pl.col("findings").fill_null(""),
        pl.col("evidence").fill_null(""),
    )
