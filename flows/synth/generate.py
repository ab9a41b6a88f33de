"""`therapy-audit generate`: synthetic claims, notes, plans and providers with ground-truth
labels (the providers export, note types and allowed amounts: flows/synth/staff.py).

The practice is built in blocks of providers; each block has its own providers and patients, so
blocks are independent and are written as they are made (bounded memory at 10 million lines).
Each block draws from its own random stream seeded by (seed, block), so the same seed writes the
same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

from data import FEE_SCHEDULE
from flows.synth import billing, staff
from flows.synth import practice as sched
from flows.synth import violations as viol
from flows.synth.covisits import co_visits, ot_plans
from flows.synth.x12 import X12Writer

FORMATS = ("parquet", "csv", "x12")

# Payment per unit for codes the shipped fee schedule has no sourced rate for; used only to give
# synthetic lines a paid amount (those lines never have a blank paid amount).
SYNTHETIC_RATES = {
    "97140": 28.45,
    "97010": 5.50,
    "97162": 97.86,
    "97163": 97.86,
    "97165": 98.40,
    "97166": 98.40,
    "97167": 98.40,
    "H2014": 18.00,
    "H0031": 120.00,
    "90837": 160.00,
}
LINES_PER_PROVIDER_DAY = 7.4
# Share of note rows whose discipline column is left blank.
BLANK_DISCIPLINE = 0.1
BLOCK_PROVIDERS = 400
EXPORT_ORDER = {
    "claims": [
        "claim_id", "line_number", "patient_id", "rendering_npi", "payer_type", "payer_id",
        "service_date", "procedure_code", "modifiers", "units", "charge_amount", "paid_amount",
        "allowed_amount",
    ],
    "notes": [
        "note_id", "patient_id", "provider_npi", "service_date", "procedure_code", "start_time",
        "end_time", "minutes", "signed_at", "note_text", "discipline", "note_type",
    ],
    "plans": [
        "plan_id", "patient_id", "discipline", "cert_start", "cert_end", "signed_date",
        "certifying_npi", "order_signed_date", "sent_date",
    ],
    "providers": list(staff.PROVIDER_COLUMNS),
}  # fmt: skip


@dataclass(frozen=True)
class GenerateSummary:
    out: Path
    claims: int
    notes: int
    plans: int
    labels: int
    providers: int = 0


def fee_rates(year: int = 2026) -> dict[str, float]:
    """code -> rate of the latest fee-schedule year not after `year` (the audit's own lookup)."""
    best: dict[str, tuple[int, float]] = {}
    with FEE_SCHEDULE.open(newline="") as fh:
        for row in csv.DictReader(fh):
            y = int(row["year"])
            if y <= year and (row["code"] not in best or y > best[row["code"]][0]):
                best[row["code"]] = (y, float(row["rate"]))
    return {code: rate for code, (_, rate) in best.items()}


def plan_shape(lines_target: int) -> tuple[int, int]:
    """(working days, providers) for about `lines_target` claim lines."""
    # at least three months, so a small sample still shows a trend by month
    n_days = max(65, min(125, lines_target // 400))
    providers = max(3, math.ceil(lines_target / (n_days * LINES_PER_PROVIDER_DAY)))
    return n_days, providers


def modifiers(lines: pl.DataFrame, rng: np.random.Generator) -> pl.Expr:
    therapy = pl.col("discipline").replace_strict({"PT": "GP", "OT": "GO"}, default=None)
    assistant = pl.col("discipline").replace_strict({"PT": "CQ", "OT": "CO"}, default=None)
    draw = pl.lit(pl.Series(rng.random(lines.height)))
    with_assistant = pl.concat_str(therapy, assistant, separator=":")
    bh = pl.when(draw < 0.4).then(pl.lit("HO"))
    return (
        pl.when(pl.col("discipline") == "BH")
        .then(bh)
        .when(draw < 0.1)
        .then(with_assistant)
        .when(pl.col("procedure_code") == "97140")
        .then(pl.concat_str(therapy, pl.lit("59"), separator=":"))
        .otherwise(therapy)
    )


def block(
    seed: int, index: int, first_provider: int, count: int, n_days: int, rates: sched.Rates
) -> dict[str, pl.DataFrame]:
    rng = np.random.default_rng([seed, index])
    provs = sched.providers(rng, first_provider, count)
    pdays = sched.provider_days(rng, provs, n_days, rates)
    episode_days = rng.integers(40, 90, size=sched.CASELOAD)
    visits = sched.visits(rng, pdays, episode_days, rates)
    pts = sched.patients(rng, visits, rates)
    services = sched.services(rng, visits)
    visits, services = sched.clock(visits, services, rng)
    dates = viol.service_dates(n_days)
    lines = (
        services.join(
            visits.select(
                "visit", "claim_id", "patient_id", "provider_npi", "discipline", "day",
                "slot_order", "kind", "is_eval",
            ),
            on="visit",
        )
        .join(dates, on="day")
        .join(pts.select("patient_id", "payer_type", "payer_id"), on="patient_id")
        .sort("claim_id", "line_number")
    )  # fmt: skip
    ends = lines.group_by("visit").agg(visit_end=pl.col("end_min").max())
    # services documented but not billed (0 units) have a note and no claim line
    unbilled = lines.filter(pl.col("units") == 0).with_columns(
        injection=pl.lit(None, dtype=pl.String), variant=pl.lit(False)
    )
    lines = viol.inject_visits(rng, lines.filter(pl.col("units") > 0), rates)
    fees = fee_rates()
    rates_by_code = {**SYNTHETIC_RATES, **fees}
    lines = billing.money(lines, rates_by_code, fees, rng)
    lines = lines.with_columns(modifiers=modifiers(lines, rng))
    plan_frame = viol.plans(rng, lines, pts, rates)
    co = co_visits(rng, lines.drop("paid_amount", "charge_amount", "line_value", "modifiers"),
                   visits, plan_frame, rates, ends)  # fmt: skip
    co = billing.money(co, rates_by_code, fees, rng)
    lines = pl.concat([lines, co.with_columns(modifiers=modifiers(co, rng)).select(lines.columns)])
    own = staff.stream(seed, index)  # the optional inputs' draws leave the block's stream alone
    extra = billing.stream(seed, index)  # and so do the Medicare billing injections'
    lines = lines.with_columns(allowed_amount=staff.allowed_amounts(lines, own))
    # the providers' disciplines before a PT's line is billed under OT
    providers = staff.providers(lines, own, index)
    clean_visits = billing.clean_visits(lines)
    lines = billing.discipline_modifiers(extra, lines, clean_visits, plan_frame, rates)
    notes = pl.concat([viol.notes(lines), viol.notes(unbilled)])
    last_day = dates["service_date"].max()
    assert isinstance(last_day, dt.date)
    notes = notes.with_columns(note_type=staff.note_types(notes, last_day))
    lines, notes = billing.assistants(extra, lines, notes, providers, clean_visits, rates)
    late, notes = billing.progress_late(extra, lines, notes, rates)
    lines, kx_missing = billing.threshold_kx(extra, lines, fees, rates)
    claims = lines.select(
        *EXPORT_ORDER["claims"][:3],
        pl.col("provider_npi").alias("rendering_npi"),
        *EXPORT_ORDER["claims"][4:],
    )
    # most notes name their discipline; the audit finds the others' from the lines
    blank = pl.lit(pl.Series(rng.random(notes.height) < BLANK_DISCIPLINE))
    notes = notes.with_columns(discipline=pl.when(~blank).then(pl.col("discipline")))
    notes = notes.sort("note_id", "procedure_code")
    plans = (
        pl.concat([plan_frame, ot_plans(plan_frame, lines)])
        .filter(pl.col("poc").fill_null("") != "no_plan")
        .with_columns(certifying_npi=pl.lit(sched.npis(np.array([90_000_000 + index]))[0]))
        .select(EXPORT_ORDER["plans"])
        .sort("plan_id")
    )
    return {
        "claims": claims,
        "notes": notes.select(EXPORT_ORDER["notes"]),
        "plans": plans,
        "providers": providers,
        "labels": pl.concat(
            [viol.labels(lines, plan_frame), billing.labels(lines, late, kx_missing)]
        ).sort("claim_id", "line_number", "rule_id"),
    }


class _Writer:
    """Appends blocks to one file per export: Parquet row groups or CSV rows."""

    def __init__(self, out: Path, fmt: str) -> None:
        # x12: the claims as 837P and their payments as 835 (flows/synth/x12.py), the rest CSV
        self.x12 = X12Writer(out) if fmt == "x12" else None
        self.out, self.fmt = out, "csv" if fmt == "x12" else fmt
        self.parquet: dict[str, pq.ParquetWriter] = {}
        self.counts: dict[str, int] = {}

    def path(self, name: str) -> Path:
        return self.out / f"{name}.{self.fmt}"

    def write(self, name: str, frame: pl.DataFrame) -> None:
        self.counts[name] = self.counts.get(name, 0) + frame.height
        if self.x12 is not None and name == "claims":
            self.x12.write(frame)
            return
        if self.fmt == "csv":
            first = name not in self.parquet and not self.path(name).exists()
            with self.path(name).open(
                "a" if not first else "w", encoding="utf-8", newline=""
            ) as fh:
                frame.write_csv(
                    fh,
                    include_header=first,
                    time_format="%H:%M",
                    datetime_format="%Y-%m-%d %H:%M:%S",
                )
            return
        table = frame.to_arrow()
        if name not in self.parquet:
            self.parquet[name] = pq.ParquetWriter(self.path(name), table.schema)
        self.parquet[name].write_table(table)

    def close(self) -> None:
        for writer in self.parquet.values():
            writer.close()
        if self.x12 is not None:
            self.x12.close()


def generate(
    lines: int, seed: int, out: Path, fmt: str = "parquet", clean: bool = False
) -> GenerateSummary:
    """Write claims, notes, plans and labels into `out`; `clean` injects no violation. `fmt`
    x12: claims.837 and remits.835 (flows/synth/x12.py), the other exports as CSV."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}: use parquet, csv or x12")
    if lines < 1:
        raise ValueError("--lines must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    for name in (*EXPORT_ORDER, "labels"):
        for ext in ("parquet", "csv"):
            (out / f"{name}.{ext}").unlink(missing_ok=True)
    for stale in ("claims.837", "remits.835"):
        (out / stale).unlink(missing_ok=True)
    n_days, n_providers = plan_shape(lines)
    rates = sched.Rates().scaled(0.0 if clean else 1.0)
    writer = _Writer(out, fmt)
    try:
        for index, first in enumerate(range(0, n_providers, BLOCK_PROVIDERS)):
            count = min(BLOCK_PROVIDERS, n_providers - first)
            for name, frame in block(seed, index, first, count, n_days, rates).items():
                writer.write(name, frame)
    finally:
        writer.close()
    c = writer.counts
    return GenerateSummary(
        out, c["claims"], c["notes"], c["plans"], c["labels"], c.get("providers", 0)
    )
