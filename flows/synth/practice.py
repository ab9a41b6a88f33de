"""Synthetic practice: providers, patients, visits and the services in each visit, on a clock.

Everything here is clean by construction (the generated practice is "mostly clean"): timed minutes
are 15 per unit plus leftovers that add up to 7 minutes or less per visit, so the CMS total-time and
the AMA midpoint methods both support exactly the billed units (CMS Pub. 100-04 Ch. 5 §20.2 and
the AMA CPT time rule); services
follow each other without overlap; a provider's billed timed minutes stay far below 8 hours a day.
Violations are injected afterwards (flows/synth/violations.py), each in a visit chosen for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields

import numpy as np
import polars as pl

from schemas.contract import npi_check_digit

PERIOD_START = dt.date(2026, 1, 5)  # a Monday
CASELOAD = 12  # patient slots per provider: more than the most visits in one day (9)
DAY_START_MIN = 8 * 60

PT_TIMED = ("97110", "97112", "97116", "97140", "97530", "97535")
OT_TIMED = ("97110", "97112", "97140", "97530", "97535")
EVAL = {"PT": ("97161", "97162", "97163"), "OT": ("97165", "97166", "97167"), "BH": ("H0031",)}
MODALITY = "97010"

# Share of clean therapy visits with a timed service documented but not billed: CMS counts its
# minutes in the day's total (Pub. 100-04 Ch. 5 §20.2, Example 5).
UNBILLED_RATE = 0.05

# Share of clean OT visits of cognitive function intervention, 97129 with its add-on 97130
# (CPT add-on convention), and of behavioral-health sessions billed as 60-minute psychotherapy
# (90837: 53 minutes or more, AMA CPT psychotherapy time rules).
COGNITIVE_RATE = 0.03
PSYCHOTHERAPY_RATE = 0.3

# Visit kinds decided before services are built, because they shape the services.
(NORMAL, CAP, MUE, SESSION_SHORT, OVERLAP, BOOK_FIRST, BOOK_SECOND, PSY_SHORT, ADDON_ALONE,
 COGNITIVE) = range(10)  # fmt: skip


@dataclass(frozen=True)
class Rates:
    """How often each violation is injected (share of eligible visits, days, plans, patients)."""

    long_day: float = 0.01  # provider-days (PT/OT)
    double_booking: float = 0.01  # provider-days (PT/OT)
    mue_visit: float = 0.012  # therapy visits
    overlap_visit: float = 0.012  # therapy visits
    short_session: float = 0.02  # behavioral-health visits
    psy_short: float = 0.02  # behavioral-health visits: 90837 for 45 minutes
    addon_alone: float = 0.02  # OT visits: 97130 without 97129
    no_plan: float = 0.02  # patients
    inflate: float = 0.015  # visits with a timed line
    co_visit_inflate: float = 0.3  # OT lines of PT/OT co-treatments (flows/synth/covisits.py)
    untimed_twice: float = 0.01  # visits with 97010 or H2032
    times_missing: float = 0.015
    times_invalid: float = 0.01
    no_note: float = 0.015
    unsigned_note: float = 0.01
    late_note: float = 0.01  # signed 8-20 days after the service
    truncated_plan: float = 0.03  # plans
    unsigned_plan: float = 0.01
    late_signature: float = 0.01
    sent_late: float = 0.01  # unsigned plans with an order, sent 31-45 days late
    no_gp: float = 0.01  # clean Medicare PT visits (flows/synth/billing.py)
    go_by_pt: float = 0.01
    assistant: float = 0.03  # clean Medicare daily visits of a therapist who supervises
    progress_late: float = 0.15  # Medicare PT/OT patients of 12 treatment days or more
    kx_missing: float = 0.5  # beneficiary-year groups past the KX threshold

    def scaled(self, factor: float) -> Rates:
        return Rates(**{f.name: getattr(self, f.name) * factor for f in fields(self)})


def workdays(n: int) -> list[dt.date]:
    days: list[dt.date] = []
    d = PERIOD_START
    while len(days) < n:
        if d.weekday() < 5:
            days.append(d)
        d += dt.timedelta(days=1)
    return days


def npis(index: np.ndarray) -> list[str]:
    """Valid, clearly synthetic NPIs (prefix 1 then the provider index)."""
    return [(b := f"1{i:08d}") + str(npi_check_digit(b)) for i in index.tolist()]


def providers(rng: np.random.Generator, first: int, count: int) -> pl.DataFrame:
    idx = np.arange(first, first + count)
    discipline = rng.choice(["PT", "OT", "BH"], size=count, p=[0.5, 0.25, 0.25])
    return pl.DataFrame(
        {"provider": idx, "provider_npi": npis(idx), "discipline": discipline},
        schema_overrides={"provider": pl.Int64},
    )


def provider_days(
    rng: np.random.Generator, provs: pl.DataFrame, n_days: int, rates: Rates
) -> pl.DataFrame:
    """One row per provider and working day: how many visits, and whether the day carries a
    provider-level violation (more than 8 hours billed, or a double-booked last visit)."""
    n = provs.height * n_days
    draw = rng.random(n)
    therapy = np.repeat(provs["discipline"].to_numpy() != "BH", n_days)
    cap = therapy & (draw < rates.long_day)
    book = therapy & ~cap & (draw < rates.long_day + rates.double_booking)
    visits = rng.integers(3, 6, size=n)
    visits = np.where(cap, 9, visits)
    return pl.DataFrame(
        {
            "provider": np.repeat(provs["provider"].to_numpy(), n_days),
            "day": np.tile(np.arange(n_days), provs.height),
            "n_visits": visits,
            "cap_day": cap,
            "book_day": book,
        }
    ).join(provs, on="provider")


def visits(
    rng: np.random.Generator, pdays: pl.DataFrame, episode_days: np.ndarray, rates: Rates
) -> pl.DataFrame:
    """Visits with their patient: slot s of a provider hosts successive patient episodes."""
    v = (
        pdays.with_columns(slot_order=pl.int_ranges(0, pl.col("n_visits")))
        .explode("slot_order")
        .with_columns(slot=(pl.col("day") * 5 + pl.col("slot_order")) % CASELOAD)
    )
    # stagger episodes per (provider, slot) so evaluations spread over the period
    length = pl.lit(pl.Series(episode_days)).get(pl.col("slot"))
    offset = (pl.col("provider") * 7 + pl.col("slot") * 11) % length
    v = v.with_columns(
        episode=(pl.col("day") + offset) // length,
        episode_start=((pl.col("day") + offset) // length) * length - offset,
    ).with_columns(
        patient_id=pl.format(
            "P{}-{}-{}",
            pl.col("provider").cast(pl.String).str.zfill(7),
            pl.col("slot").cast(pl.String).str.zfill(2),
            pl.col("episode").cast(pl.String).str.zfill(2),
        ),
        claim_id=pl.format(
            "C{}{}{}",
            pl.col("provider").cast(pl.String).str.zfill(7),
            pl.col("day").cast(pl.String).str.zfill(3),
            pl.col("slot_order"),
        ),
    )
    first_seen = pl.col("day") == pl.col("day").min().over("patient_id")
    v = v.with_columns(
        is_eval=first_seen & (pl.col("episode_start") >= 0),
        last_of_day=pl.col("slot_order") == pl.col("n_visits") - 1,
        second_last=pl.col("slot_order") == pl.col("n_visits") - 2,
        r=pl.lit(pl.Series(rng.random(v.height))),
    )
    kind = (
        pl.when(pl.col("cap_day"))
        .then(CAP)
        .when(pl.col("book_day") & pl.col("second_last"))
        .then(BOOK_FIRST)
        .when(pl.col("book_day") & pl.col("last_of_day"))
        .then(BOOK_SECOND)
        .when(pl.col("is_eval"))
        .then(NORMAL)
        .when((pl.col("discipline") != "BH") & (pl.col("r") < rates.mue_visit))
        .then(MUE)
        .when(
            (pl.col("discipline") != "BH") & (pl.col("r") < rates.mue_visit + rates.overlap_visit)
        )
        .then(OVERLAP)
        .when((pl.col("discipline") == "BH") & (pl.col("r") < rates.short_session))
        .then(SESSION_SHORT)
        .when(
            (pl.col("discipline") == "BH") & (pl.col("r") < rates.short_session + rates.psy_short)
        )
        .then(PSY_SHORT)
        .when((pl.col("discipline") == "OT") & (pl.col("r2") < rates.addon_alone))
        .then(ADDON_ALONE)
        .when((pl.col("discipline") == "OT") & (pl.col("r2") < rates.addon_alone + COGNITIVE_RATE))
        .then(COGNITIVE)
        .otherwise(NORMAL)
    )
    # a second draw for the kinds that came later, so the earlier kinds keep their visits
    v = v.with_columns(r2=pl.lit(pl.Series(rng.random(v.height))))
    return v.with_columns(kind=kind.cast(pl.Int8)).drop("r", "r2", "second_last")


def patients(rng: np.random.Generator, v: pl.DataFrame, rates: Rates) -> pl.DataFrame:
    pts = v.select("patient_id", "discipline").unique("patient_id").sort("patient_id")
    draw = rng.random(pts.height)
    bh = pts["discipline"].to_numpy() == "BH"
    payer = np.where(
        bh,
        np.where(draw < 0.75, "medicaid", "commercial"),
        np.where(draw < 0.5, "medicare", np.where(draw < 0.85, "commercial", "medicaid")),
    )
    payer_id = np.select(
        [payer == "medicare", payer == "medicaid"], ["MCR-JH", "MCD-STATE"], "COM-ACME"
    )
    plan_days = np.where(rng.random(pts.height) < 0.3, 60, 90)
    # patients whose plan of care is missing altogether (POC-MISSING)
    no_plan = rng.random(pts.height) < rates.no_plan
    return pts.with_columns(
        payer_type=pl.Series(payer),
        payer_id=pl.Series(payer_id),
        plan_days=pl.Series(plan_days),
        no_plan=pl.Series(no_plan),
    ).drop("discipline")


def _pick(rng: np.random.Generator, options: tuple[str, ...], size: int, k: int) -> np.ndarray:
    """k distinct codes per row (sampling without replacement, vectorised)."""
    order = rng.random((size, len(options))).argsort(axis=1)[:, :k]
    return np.asarray(options)[order]


def services(rng: np.random.Generator, v: pl.DataFrame) -> pl.DataFrame:
    """One row per service (future claim line and note row) with code, units and minutes."""
    n = v.height
    disc = v["discipline"].to_numpy()
    kind = v["kind"].to_numpy()
    is_eval = v["is_eval"].to_numpy()
    slots = 5  # the last: a service documented but not billed (0 units)
    code = np.full((n, slots), "", dtype=object)
    units = np.zeros((n, slots), dtype=np.int64)
    minutes = np.zeros((n, slots), dtype=np.int64)

    # therapy visits: 1-3 timed codes, 1-2 units each (at most 4 units a visit), leftovers
    # summing to 7 minutes or less, sometimes an unattended modality first
    n_timed = rng.choice([1, 2, 3], size=n, p=[0.25, 0.5, 0.25])
    pt_codes = _pick(rng, PT_TIMED, n, 3)
    ot_codes = _pick(rng, OT_TIMED, n, 3)
    timed_codes = np.where((disc == "OT")[:, None], ot_codes, pt_codes)
    u = rng.integers(1, 3, size=(n, 3))
    u[:, 1:] = np.where((n_timed == 3)[:, None], 1, u[:, 1:])
    left = rng.integers(0, 8, size=(n, 3)) // np.maximum(n_timed, 1)[:, None]
    modality = rng.random(n) < 0.2
    for j in range(3):
        active = n_timed > j
        col = j + 1
        code[:, col] = np.where(active, timed_codes[:, j], "")
        units[:, col] = np.where(active, u[:, j], 0)
        minutes[:, col] = np.where(active, 15 * u[:, j] + left[:, j], 0)
    # a timed service of a few minutes nobody billed, on some visits of one or two timed codes:
    # it keeps the visit's leftover minutes at 7 or less, so the billed units stay exactly what
    # the day's total supports
    leftover = sum(np.where(n_timed > j, left[:, j], 0) for j in range(3))
    spare = timed_codes[np.arange(n), np.minimum(n_timed, 2)]
    unbilled = (n_timed <= 2) & (leftover <= 6) & (rng.random(n) < UNBILLED_RATE)
    code[:, 4] = np.where(unbilled, spare, "")
    minutes[:, 4] = np.where(unbilled, 1 + (rng.random(n) * (7 - leftover)).astype(np.int64), 0)
    code[:, 0] = np.where(modality, MODALITY, "")
    units[:, 0] = np.where(modality, 1, 0)
    minutes[:, 0] = np.where(modality, 10, 0)

    # evaluation visits: the evaluation, then one timed code
    ev = is_eval & (disc != "BH")
    eval_code = np.where(disc == "PT", _pick(rng, EVAL["PT"], n, 1)[:, 0], "")
    eval_code = np.where(disc == "OT", _pick(rng, EVAL["OT"], n, 1)[:, 0], eval_code)
    code[ev, 0], units[ev, 0], minutes[ev, 0] = eval_code[ev], 1, 45
    code[ev, 2:], units[ev, 2:], minutes[ev, 2:] = "", 0, 0
    units[ev, 1] = 1
    minutes[ev, 1] = 15 + left[ev, 0]

    # behavioral health: per-session H2032 or per-15-minute H2014; assessment H0031 first
    bh = disc == "BH"
    session = rng.random(n) < 0.6
    code[bh, :] = ""
    units[bh, :] = 0
    minutes[bh, :] = 0
    bh_s = bh & session
    code[bh_s, 0], units[bh_s, 0] = "H2032", 1
    minutes[bh_s, 0] = rng.integers(30, 61, size=int(bh_s.sum()))
    bh_t = bh & ~session
    code[bh_t, 0] = "H2014"
    units[bh_t, 0] = rng.integers(1, 4, size=int(bh_t.sum()))
    minutes[bh_t, 0] = 15 * units[bh_t, 0] + rng.integers(0, 8, size=int(bh_t.sum()))
    # some sessions are psychotherapy of 53-60 minutes instead (a draw of their own at the end)
    bh_e = bh & is_eval
    code[bh_e, 0], units[bh_e, 0], minutes[bh_e, 0] = "H0031", 1, 60

    # shaped visits (kinds decided in `visits`)
    def shape(mask: np.ndarray, spec: list[tuple[str, int, int]]) -> None:
        code[mask, :], units[mask, :], minutes[mask, :] = "", 0, 0
        for j, (c, un, mi) in enumerate(spec):
            code[mask, j], units[mask, j], minutes[mask, j] = c, un, mi

    psy = bh_s & ~is_eval & (rng.random(n) < PSYCHOTHERAPY_RATE)
    code[psy, 0], units[psy, 0] = "90837", 1
    minutes[psy, 0] = rng.integers(53, 61, size=int(psy.sum()))
    shape(kind == PSY_SHORT, [("90837", 1, 45)])
    shape(kind == ADDON_ALONE, [("97130", 1, 15)])
    shape(kind == COGNITIVE, [("97129", 1, 15), ("97130", 1, 15)])
    shape(kind == CAP, [("97110", 2, 30), ("97530", 2, 30)])
    shape(kind == MUE, [("97112", 5, 75)])
    shape(kind == SESSION_SHORT, [("H2032", 1, 0)])
    minutes[kind == SESSION_SHORT, 0] = rng.integers(
        20, 30, size=int((kind == SESSION_SHORT).sum())
    )
    ov = kind == OVERLAP
    shape(ov, [("97530", 2, 30), ("97110", 2, 30)])
    minutes[ov, 0] += rng.integers(0, 4, size=int(ov.sum()))
    minutes[ov, 1] += rng.integers(0, 4, size=int(ov.sum()))
    shape(kind == BOOK_FIRST, [("97110", 2, 30), ("97530", 2, 30)])
    shape(kind == BOOK_SECOND, [("97140", 1, 15), ("97112", 1, 15)])

    flat = pl.DataFrame(
        {
            "visit": np.repeat(np.arange(n), slots),
            "procedure_code": code.reshape(-1).astype(str),
            "units": units.reshape(-1),
            "minutes": minutes.reshape(-1),
        }
    ).filter(pl.col("procedure_code") != "")
    return flat.with_columns(line_number=pl.int_range(1, pl.len() + 1).over("visit").cast(pl.Int64))


def clock(
    v: pl.DataFrame, s: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Start and end minute of every service: visits back to back with short gaps, services
    within a visit back to back; double-booked second visits start 5 minutes into the first."""
    dur = s.group_by("visit").agg(pl.col("minutes").sum().alias("duration"))
    v = (
        v.with_row_index("visit")
        .with_columns(pl.col("visit").cast(pl.Int64))
        .join(dur.with_columns(pl.col("visit").cast(pl.Int64)), on="visit", how="left")
        .with_columns(gap=pl.lit(pl.Series(rng.choice([0, 5, 10], size=v.height))))
        .sort("provider", "day", "slot_order")
    )
    begin = pl.when(pl.col("cap_day")).then(7 * 60).otherwise(DAY_START_MIN)
    v = v.with_columns(
        visit_start=begin
        + (pl.col("duration") + pl.col("gap")).cum_sum().over("provider", "day")
        - (pl.col("duration") + pl.col("gap"))
    )
    v = v.with_columns(
        visit_start=pl.when(pl.col("kind") == BOOK_SECOND)
        .then(pl.col("visit_start").shift(1).over("provider", "day") + 5)
        .otherwise(pl.col("visit_start"))
    )
    s = s.with_columns(pl.col("visit").cast(pl.Int64)).join(
        v.select("visit", "visit_start", "kind"), on="visit"
    )
    s = s.sort("visit", "line_number").with_columns(
        start_min=pl.col("visit_start")
        + pl.col("minutes").cum_sum().over("visit")
        - pl.col("minutes")
    )
    # OVERLAP visits: the second service (97110) starts 15 minutes before the first ends
    s = s.with_columns(
        start_min=pl.when((pl.col("kind") == OVERLAP) & (pl.col("line_number") == 2))
        .then(pl.col("start_min") - 15)
        .otherwise(pl.col("start_min"))
    ).with_columns(end_min=pl.col("start_min") + pl.col("minutes"))
    return v.drop("duration", "gap"), s.drop("visit_start", "kind")
