"""The DuckDB peers of POC-UNSIGNED and PROGRESS-REPORT-LATE flag the lines our rules flag and
the lines the manuals' rules expect, on small truth tables of the shipped profiles' limits: the
30 days to sign a plan after its first treatment and the CY 2025 order path (Medicare only), and
a clinician's progress report at least every 10 treatment days (Medicare only)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import polars as pl

from checks.engine import run_rules
from checks.registry import all_rules
from flows.run.config import default_profiles
from tests.benchmarks.duckdb_peer import plan_of_care, progress
from tests.benchmarks.duckdb_peer.base import PeerContext, setup

Row = tuple[Any, ...]
CLAIMS = pl.Schema(
    {"claim_id": pl.String, "line_number": pl.Int64, "patient_id": pl.String,
     "rendering_npi": pl.String, "payer_type": pl.String, "service_date": pl.Date,
     "procedure_code": pl.String, "modifiers": pl.String, "units": pl.Int64}
)  # fmt: skip
NOTES = pl.Schema(
    {"note_id": pl.String, "patient_id": pl.String, "provider_npi": pl.String,
     "service_date": pl.Date, "procedure_code": pl.String, "start_time": pl.Time,
     "end_time": pl.Time, "discipline": pl.String, "note_type": pl.String}
)  # fmt: skip
PLANS = pl.Schema(
    {"plan_id": pl.String, "patient_id": pl.String, "discipline": pl.String,
     "cert_start": pl.Date, "cert_end": pl.Date, "signed_date": pl.Date,
     "order_signed_date": pl.Date, "sent_date": pl.Date}
)  # fmt: skip
PROVIDERS = pl.Schema({"npi": pl.String, "role": pl.String, "discipline": pl.String})


def t(hhmm: str | None) -> dt.time | None:
    return None if hhmm is None else dt.time(int(hhmm[:2]), int(hhmm[3:]))


def write(
    folder: Path,
    claims: list[Row],
    notes: list[Row],
    plans: list[Row] | None = None,
    providers: list[Row] | None = None,
) -> None:
    """The exports as Parquet: rows in the order of CLAIMS, NOTES (times as "HH:MM"), PLANS and
    PROVIDERS, the columns no rule here reads filled in."""
    folder.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(claims, schema=CLAIMS, orient="row").with_columns(
        payer_id=pl.lit("P"), charge_amount=pl.lit(100.0), paid_amount=pl.lit(50.0)
    ).write_parquet(folder / "claims.parquet")
    timed = [(*r[:5], t(r[5]), t(r[6]), *r[7:]) for r in notes]
    minutes = (pl.col("end_time").cast(pl.Int64) - pl.col("start_time").cast(pl.Int64)) // (
        60 * 10**9
    )
    pl.DataFrame(timed, schema=NOTES, orient="row").with_columns(
        minutes=minutes, signed_at=pl.lit(dt.datetime(2026, 12, 31, 18)), note_text=pl.lit("")
    ).write_parquet(folder / "notes.parquet")
    pl.DataFrame(plans or [], schema=PLANS, orient="row").with_columns(
        certifying_npi=pl.lit("1900000005")
    ).write_parquet(folder / "plans.parquet")
    if providers is not None:
        pl.DataFrame(providers, schema=PROVIDERS, orient="row").with_columns(
            name=pl.lit("N"), supervising_npi=pl.lit(None, dtype=pl.String)
        ).write_parquet(folder / "providers.parquet")


def flagged(folder: Path, peer: ModuleType, rule_ids: list[str]) -> tuple[dict[str, set[str]], ...]:
    """("claim|line" per rule) of our rules `rule_ids` and of the peer module `peer`, alone."""
    profiles = default_profiles()

    def read(export: str) -> pl.LazyFrame:
        return pl.read_parquet(folder / f"{export}.parquet").lazy()

    given = folder / "providers.parquet"
    mue = pl.LazyFrame(schema={"code": pl.String, "year": pl.Int32, "mue": pl.Int64})
    raw, _, _ = run_rules(
        read("claims"), read("notes"), read("plans"), profiles=profiles, mue=mue,
        rules={r: all_rules()[r] for r in rule_ids},
        providers=read("providers") if given.exists() else None,
    )  # fmt: skip
    ours: dict[str, set[str]] = {r: set() for r in rule_ids}
    if raw.height:
        for claim, line, rule_id in raw.select("claim_id", "line_number", "rule_id").rows():
            ours[rule_id].add(f"{claim}|{line}")
    ctx = PeerContext(folder, profiles)
    con = duckdb.connect()
    for sql in setup(ctx):
        con.execute(sql)
    if hasattr(peer, "prepare"):
        peer.prepare(con, ctx)
    theirs: dict[str, set[str]] = {r: set() for r in rule_ids}
    for sql in peer.statements(ctx).values():
        for claim, line, rule_id in con.execute(sql).fetchall():
            theirs[rule_id].add(f"{claim}|{line}")
    con.close()
    return ours, theirs


J = dt.date(2026, 1, 5)  # a Monday: the evaluation, day 1 of the first treatment


def _poc_case(
    pid: str, payer: str, signed: dt.date | None, order: dt.date | None, sent: dt.date | None
) -> tuple[list[Row], list[Row]]:
    """An evaluation (97161) on J and two units of 97110 two days later, under a PT plan
    certified from J."""
    claims = [
        (pid, 1, pid, "1000000020", payer, J, "97161", "GP", 1),
        (pid, 2, pid, "1000000020", payer, J + dt.timedelta(days=2), "97110", "GP", 2),
    ]
    plans = [(f"{pid}-PT", pid, "PT", J, dt.date(2026, 4, 30), signed, order, sent)]
    return claims, plans


def test_poc_unsigned(tmp_path: Path) -> None:
    day = dt.timedelta(days=1)
    claims: list[Row] = []
    plans: list[Row] = []
    # Pub. 100-02 ch. 15 §220.1.3 B: signed in the 30 days after the first treatment (the
    # evaluation on J): day 30 is in time (U1), day 31 late (U2), never signed (U3); the
    # evaluation that establishes the plan is not furnished under it and is never flagged
    # CY 2025 PFS final rule (89 Fed. Reg. 97912-97918): an order signed before the plan is sent
    # and the plan sent within 30 days certifies (U4), 31 days (U5) or an order signed after the
    # plan was sent (U6) do not, and Medicaid's profile turns the path off (U7)
    for pid, payer, signed, order, sent in [
        ("U1", "medicare", J + 30 * day, None, None),
        ("U2", "medicare", J + 31 * day, None, None),
        ("U3", "medicare", None, None, None),
        ("U4", "medicare", None, J + day, J + 30 * day),
        ("U5", "medicare", None, J + day, J + 31 * day),
        ("U6", "medicare", None, J + 15 * day, J + 5 * day),
        ("U7", "medicaid", None, J + day, J + 30 * day),
        ("U8", "commercial", None, J + day, J + 30 * day),
    ]:
        more_claims, more_plans = _poc_case(pid, payer, signed, order, sent)
        claims += more_claims
        plans += more_plans
    # the order path certifies dates of service from 1 January 2025 only
    dec = dt.date(2024, 12, 16)
    claims += [
        ("U9", 1, "U9", "1000000020", "medicare", dec, "97110", "GP", 1),
        ("U9", 2, "U9", "1000000020", "medicare", dt.date(2025, 1, 6), "97110", "GP", 1),
    ]
    plans += [("U9-PT", "U9", "PT", dt.date(2024, 11, 1), dt.date(2025, 2, 28), None, dec,
               dec + 4 * day)]  # fmt: skip
    # PT and OT bill 97110 the same day: each line needs its own discipline's plan
    claims += [
        ("U10", 1, "U10", "1000000020", "medicare", J, "97110", "GP", 1),
        ("U10", 2, "U10", "1000000004", "medicare", J, "97110", "GO", 1),
    ]
    plans += [
        ("U10-PT", "U10", "PT", J, dt.date(2026, 4, 30), J, None, None),
        ("U10-OT", "U10", "OT", J, dt.date(2026, 4, 30), None, None, None),
    ]
    # an evaluation documented but not billed on 2 January is the first treatment: signed 34
    # days later although 16 days after the first billed line
    claims += [("U11", 1, "U11", "1000000020", "medicare", J + 15 * day, "97110", "GP", 1)]
    plans += [("U11-PT", "U11", "PT", dt.date(2026, 1, 1), dt.date(2026, 4, 30),
               dt.date(2026, 2, 5), None, None)]  # fmt: skip
    notes = [("n11", "U11", "1000000020", dt.date(2026, 1, 2), "97161", "09:00", "09:45", "PT",
              "evaluation")]  # fmt: skip
    # no plan's range holds the date (POC-MISSING's); a signed plan without a discipline
    # certifies a day an unsigned PT plan also covers; a BH plan does not cover 97110 billed
    # without a therapy modifier
    claims += [
        ("U12", 1, "U12", "1000000020", "medicare", J, "97110", "GP", 1),
        ("U13", 1, "U13", "1000000020", "medicare", J, "97110", "GP", 1),
        ("U14", 1, "U14", "1000000020", "commercial", J, "97110", "", 1),
    ]
    plans += [
        ("U12-PT", "U12", "PT", J + day, dt.date(2026, 4, 30), None, None, None),
        ("U13-PT", "U13", "PT", J, dt.date(2026, 4, 30), None, None, None),
        ("U13-X", "U13", None, J, dt.date(2026, 4, 30), J, None, None),
        ("U14-BH", "U14", "BH", J, dt.date(2026, 4, 30), None, None, None),
    ]
    write(tmp_path, claims, notes, plans)
    ours, peer = flagged(tmp_path, plan_of_care, ["POC-UNSIGNED"])
    expected = {"POC-UNSIGNED": {"U2|2", "U3|2", "U5|2", "U6|2", "U7|2", "U9|1", "U10|2", "U11|1"}}
    assert ours == expected
    assert peer == expected


def _days(pid: str, payer: str, first: int, last: int, code: str = "97110") -> list[Row]:
    """One PT line a day, claim "pid-dd", on March days `first`..`last`."""
    return [
        (f"{pid}-{d:02d}", 1, pid, "1000000020", payer, dt.date(2026, 3, d), code, "GP", 1)
        for d in range(first, last + 1)
    ]


def _report(pid: str, d: int, kind: str, npi: str = "1000000020", code: str = "97110") -> Row:
    return (f"{pid}-r{d}", pid, npi, dt.date(2026, 3, d), code, "09:00", "09:30", "PT", kind)


def test_progress_report_late(tmp_path: Path) -> None:
    # Pub. 100-02 ch. 15 §220.3 D: the evaluation's day is treatment day 1, so the 11th
    # treatment day (11 March) is past the 10 (R1); Medicaid's profile does not run the rule
    # (R4); a progress report's own day is not counted: 10 days after it are in time (R2)
    claims = _days("R1", "medicare", 1, 1, "97161") + _days("R1", "medicare", 2, 12)
    notes = [_report("R1", 1, "evaluation", code="97161")]
    claims += _days("R4", "medicaid", 1, 1, "97161") + _days("R4", "medicaid", 2, 12)
    notes += [_report("R4", 1, "evaluation", code="97161")]
    claims += _days("R2", "medicare", 1, 12)
    notes += [_report("R2", 1, "progress")]
    # an assistant's report (a PTA) does not start a new period: 11 and 12 March stay late
    claims += _days("R3", "medicare", 1, 1, "97161") + _days("R3", "medicare", 2, 12)
    notes += [_report("R3", 1, "evaluation", code="97161"), _report("R3", 11, "progress", "2000")]
    # a re-evaluation documented on a day nothing was billed: 10 treatment days after it
    claims += _days("R5", "medicare", 2, 12)
    notes += [_report("R5", 1, "re-evaluation")]
    # treatment before the first report in the export is not judged
    claims += _days("R6", "medicare", 1, 14)
    notes += [_report("R6", 13, "progress")]
    # PT and OT bill 97110 on the same days: only PT's 11th day (both its lines) is late
    for d in range(1, 12):
        day = dt.date(2026, 3, d)
        claims += [
            (f"R7-{d:02d}", 1, "R7", "1000000020", "medicare", day, "97110", "GP", 1),
            (f"R7-{d:02d}", 2, "R7", "1000000020", "medicare", day, "97140", "GP", 1),
            (f"R7-{d:02d}", 3, "R7", "1000000004", "medicare", day, "97110", "GO", 1),
        ]
    notes += [
        _report("R7", 1, "evaluation"),
        ("R7-ot", "R7", "1000000004", dt.date(2026, 3, 2), "97110", "10:00", "10:30", "OT",
         "evaluation"),
    ]  # fmt: skip
    providers = [("1000000020", "PT", "PT"), ("1000000004", "OT", "OT"), ("2000", "PTA", "PT")]
    write(tmp_path, claims, notes, providers=providers)
    ours, peer = flagged(tmp_path, progress, ["PROGRESS-REPORT-LATE"])
    expected = {
        "PROGRESS-REPORT-LATE": {"R1-11|1", "R1-12|1", "R2-12|1", "R3-11|1", "R3-12|1",
                                 "R5-12|1", "R7-11|1", "R7-11|2"}
    }  # fmt: skip
    assert ours == expected
    assert peer == expected
