"""Truth tables of the unit rules (checks/rules/units.py): UNITS-8MIN, UNITS-UNTIMED, UNITS-MUE,
UNITS-SESSION-MIN."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from checks.assemble import audit
from flows.run.config import fee_schedule
from schemas.contract import npi_check_digit
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    NPI_A,
    NPI_B,
    PLAN_SCHEMA,
    Case,
    check_case,
    claim,
    excess,
    make_data,
    mue_table,
    note,
    plan,
    run_rule,
    shipped_profiles,
)

PROFILES = shipped_profiles()

S2 = "CMS Pub. 100-04 Ch. 5 §20.2 (total-time method, 8-22 min = 1 unit …)"
MANUAL = "CMS Pub. 100-04 Ch. 5 §20.2"
EX1 = f"{MANUAL} Example 1: 97112 24 min + 97110 23 min = 47 min → 3 units, 97112 ×2, 97110 ×1"
EX2 = (
    f"{MANUAL} Example 2: 97112 20 min + 97110 20 min = 40 min → 3 units, either code ×2; "
    "'do not bill 3 units for either one of the codes'"
)
EX3 = f"{MANUAL} Example 3: 97110 33 min + 97140 7 min = 40 min → 3 units, 97110 ×2, 97140 ×1"
EX4 = (
    f"{MANUAL} Example 4: 97110 18 + 97140 13 + 97116 10 + 97035 8 = 49 min → 3 units, one "
    "each of 97110, 97140, 97116 and none of 97035"
)
EX5 = (
    f"{MANUAL} Example 5: 97112 7 + 97110 7 + 97140 7 = 21 min → 1 unit of any one of them "
    "(services of 7 minutes or less may add up to one unit)"
)
LE7 = f"{MANUAL}: leftovers of services of 7 minutes or less add up to one unit"
DISC = (
    f"{MANUAL}: timed minutes total per patient, date and discipline (PT, OT, SLP), billed or "
    "not; Pub. 100-04 Ch. 5 §20.1 GP/GO/GN name the discipline"
)
HCODE = (
    "state Medicaid manuals: per-15-minute H-codes counted per code or pooled as in "
    f"{MANUAL}, the profile's UNITS-8MIN per_code"
)
S2_EX1 = "CMS Pub. 100-04 Ch. 5 §20.2 Example 1: 97112 24 min + 97110 23 min"
S2_EX2 = "CMS Pub. 100-04 Ch. 5 §20.2 Example 3: 97110 33 min + 97140 7 min"
S2_AMA = "AMA CPT time rule (midpoint, per code; leftover minutes never combine)"
S2_CAP = "CMS Pub. 100-04 Ch. 5 §20.2: a code carries its full units plus at most one leftover unit"
POOL = "brief: units pooled per (patient, date, code), later-billed line first"
S1 = "CPT/HCPCS code definitions: untimed and evaluation codes are one service a day"
S6 = "CMS NCCI practitioner Medically Unlikely Edits"
S1_SESSION = "State Medicaid manuals: H2032 per session, at least 30 minutes to qualify"
S3 = "CMS Pub. 100-02 Ch. 15 §220.3 (timed minutes documented; rows without are TIME-MISSING's)"


def _timed(code: str, minutes: int | None, units: int, line: int, cid: str = "C1", **kw):
    """A timed line and its note (note id N<line>)."""
    return claim(cid, line, code=code, units=units, **kw), note(
        f"N{line}", code=code, minutes=minutes
    )


def _day(*items: tuple[str, int | None, int], **kw) -> dict:
    """Claims and notes of one patient-day: (code, minutes, billed units) per line."""
    pairs = [_timed(code, m, b, i + 1, **kw) for i, (code, m, b) in enumerate(items)]
    return {"claims": [c for c, _ in pairs], "notes": [n for _, n in pairs]}


def _8min(
    name: str,
    kind: str,
    source: str,
    expected: dict,
    *items: tuple[str, int | None, int],
    profile: str = "medicare",
    params: dict | None = None,
    **claim_kw,
) -> Case:
    """A UNITS-8MIN case of one patient-day; `claim_kw` goes to every claim line."""
    day = _day(*items, **claim_kw)
    return Case(
        "UNITS-8MIN", name, kind, **day, expected=expected, profile=profile,
        params=params or {}, source=source,
    )  # fmt: skip


def _session(name: str, kind: str, minutes: int | None, units: int = 1, **kw) -> Case:
    """An H2032 line under the Medicaid profile; minutes="none" means no note at all."""
    notes = [] if minutes == "none" else [note(code="H2032", minutes=minutes)]
    return Case(
        "UNITS-SESSION-MIN", name, kind, profile="medicaid", source=S1_SESSION,
        claims=[claim(code="H2032", mods=None, payer="medicaid", units=units)], notes=notes, **kw,
    )  # fmt: skip


def _manual(
    name: str,
    kind: str,
    source: str,
    expected: dict,
    services: list[tuple],
    profile: str = "medicare",
) -> Case:
    """One patient-day: (code, minutes, units billed[, note discipline]) per documented service;
    a service billed 0 units has its note and no claim line (line numbers follow the list)."""
    claims, notes = [], []
    for i, (code, minutes, units, *disc) in enumerate(services, start=1):
        payer = {} if profile == "medicare" else {"payer": profile}
        if units:
            claims.append(claim("C1", i, code=code, units=units, **payer))
        notes.append(note(f"N{i}", code=code, minutes=minutes, discipline=(disc or [None])[0]))
    return Case("UNITS-8MIN", name, kind, claims=claims, notes=notes, expected=expected,
                profile=profile, source=source)  # fmt: skip


L1, L2 = ("C1", 1), ("C1", 2)

# fmt: off
EIGHT_MIN = [
    _8min("worked example billed 2+1", "clean", S2_EX1, {}, ("97112", 24, 2), ("97110", 23, 1)),
    _8min("worked example billed 2+2", "flag", S2_EX1, {L2: 1}, ("97112", 24, 2), ("97110", 23, 2)),
    _8min("33+7 billed 2+1 under cms", "clean", S2_EX2, {}, ("97110", 33, 2), ("97140", 7, 1)),
    _8min("33+7 billed 2+1 under ama", "flag", S2_AMA, {L2: 1}, ("97110", 33, 2), ("97140", 7, 1),
          profile="commercial"),
    _8min("ama as a parameter override", "flag", S2_AMA, {L2: 1}, ("97110", 33, 2),
          ("97140", 7, 1), params={"method": "ama"}),
    _8min("ama leftovers never combine", "flag", S2_AMA, {L1: 1, L2: 1}, ("97110", 7, 1),
          ("97140", 7, 1), profile="commercial"),
    # 14 minutes are one unit: equal deficits, the lower code carries the excess
    _8min("cms leftovers of 7 min add up to one unit", "flag", S2, {L1: 1}, ("97110", 7, 1),
          ("97140", 7, 1)),
    _8min("7 minutes billed 1", "boundary", S2, {L1: 1}, ("97110", 7, 1)),
    _8min("8 minutes billed 1", "boundary", S2, {}, ("97110", 8, 1)),
    _8min("22 minutes billed 2", "boundary", S2, {L1: 1}, ("97110", 22, 2)),
    _8min("23 minutes billed 2", "boundary", S2, {}, ("97110", 23, 2)),
    _8min("ama 7 minutes billed 1", "boundary", S2_AMA, {L1: 1}, ("97110", 7, 1),
          profile="commercial"),
    _8min("ama 8 minutes billed 1", "boundary", S2_AMA, {}, ("97110", 8, 1), profile="commercial"),
    _8min("0 minutes documented", "boundary", S2, {L1: 1}, ("97110", 0, 1)),
    # 60 minutes support 4 units for the day, but 16 minutes carry at most 2 on one code
    _8min("per-code cap inside the day total", "flag", S2_CAP, {L1: 1}, ("97110", 16, 3),
          ("97140", 44, 1)),
    _8min("per-code cap reached exactly", "boundary", S2_CAP, {}, ("97110", 16, 2),
          ("97140", 44, 2)),
    # equal deficits: the brief's tie-break is procedure code ascending
    _8min("day excess on equal deficits goes to the lower code", "flag", S2, {L2: 1},
          ("97140", 20, 2), ("97110", 20, 2)),
    _8min("day excess goes to the largest deficit", "flag", S2, {L2: 1}, ("97112", 29, 2),
          ("97110", 16, 2)),
    # 20 minutes, 1 unit, 4 billed: caps take 1 each, the day's third goes to 97110 (tie)
    _8min("cap excess plus the day remainder", "flag", S2, {L1: 2, L2: 1}, ("97110", 10, 2),
          ("97140", 10, 2)),
    _8min("blank modifiers pool together", "blank", S2, {L2: 1}, ("97112", 24, 2),
          ("97110", 23, 2), mods=None),
    _8min("blank paid amount still flags", "blank", S2, {L1: 1}, ("97110", 22, 2), paid=None),
    _8min("blank minutes: TIME-MISSING's finding", "blank", S3, {}, ("97110", None, 4)),
    _8min("zero-unit line is not billed", "clean", S2, {}, ("97110", 0, 0)),
    # the manual's examples: the documented services, billed as the manual bills them (a service
    # documented but not billed is a note without a claim line)
    _manual("example 1 as billed", "clean", EX1, {}, [("97112", 24, 2), ("97110", 23, 1)]),
    _manual("example 2, 97112 x2", "clean", EX2, {}, [("97112", 20, 2), ("97110", 20, 1)]),
    _manual("example 2, 97110 x2", "clean", EX2, {}, [("97112", 20, 1), ("97110", 20, 2)]),
    _manual("example 2, 3 units of one code", "flag", EX2, {L1: 1},
            [("97112", 20, 3), ("97110", 20, 0)]),
    _manual("example 3 as billed", "clean", EX3, {}, [("97110", 33, 2), ("97140", 7, 1)]),
    _manual("example 4 as billed", "clean", EX4, {},
            [("97110", 18, 1), ("97140", 13, 1), ("97116", 10, 1), ("97035", 8, 0)]),
    _manual("example 4 with 97035 billed too", "flag", EX4, {("C1", 4): 1},
            [("97110", 18, 1), ("97140", 13, 1), ("97116", 10, 1), ("97035", 8, 1)]),
    _manual("example 5, 97112 billed", "clean", EX5, {},
            [("97112", 7, 1), ("97110", 7, 0), ("97140", 7, 0)]),
    _manual("example 5, 97140 billed", "clean", EX5, {},
            [("97112", 7, 0), ("97110", 7, 0), ("97140", 7, 1)]),
    # equal deficits: the lower code carries the excess
    _manual("example 5, two codes billed", "flag", EX5, {L2: 1},
            [("97112", 7, 1), ("97110", 7, 1), ("97140", 7, 0)]),
    _manual("example 5 under ama: 7 minutes support nothing", "flag", S2_AMA, {L1: 1},
            [("97112", 7, 1), ("97110", 7, 0), ("97140", 7, 0)], profile="commercial"),
    _manual("7 minutes or less: 5 + 4 billed under the longer", "clean", LE7, {},
            [("97110", 5, 1), ("97140", 4, 0)]),
    _manual("7 minutes or less: 4 + 3 is under 8", "boundary", LE7, {L1: 1},
            [("97110", 4, 1), ("97140", 3, 0)]),
    _manual("unbilled minutes of another discipline do not count", "flag", DISC, {L1: 1},
            [("97110", 5, 1), ("97140", 5, 0, "OT")]),
    _manual("unbilled minutes of the same discipline count", "clean", DISC, {},
            [("97110", 5, 1), ("97140", 5, 0, "PT")]),
    # GP and GO lines are separate pools: 10 + 10 minutes would be one unit if pooled
    Case("UNITS-8MIN", "two disciplines pooled apart", "clean", source=S2,
         claims=[claim("C1", 1, code="97110", mods="GP"), claim("C1", 2, code="97530", mods="GO")],
         notes=[note("N1", code="97110", minutes=10), note("N2", code="97530", minutes=10)]),
    Case("UNITS-8MIN", "one note row without minutes", "blank", source=S3,
         claims=[claim(units=3)], notes=[note("N1", minutes=10), note("N2", minutes=None)]),
    Case("UNITS-8MIN", "no note: DOC-NO-NOTE's finding", "blank", source=S3,
         claims=[claim(units=3)]),
    Case("UNITS-8MIN", "untimed minutes do not count toward the day", "flag", source=S2,
         claims=[claim("C1", 1, units=1), claim("C1", 2, code="97164")],
         notes=[note("N1", minutes=5), note("N2", code="97164", minutes=60)], expected={L1: 1}),
    Case("UNITS-8MIN", "same code on two claims", "flag", source=POOL,
         claims=[claim("C2", 1, units=2), claim("C1", 1, units=2)], notes=[note(minutes=38)],
         expected={("C2", 1): 1}),
    Case("UNITS-8MIN", "excess spills to the earlier claim", "flag", source=POOL,
         claims=[claim("C1", 1, units=2), claim("C2", 1, units=1)], notes=[note(minutes=10)],
         expected={L1: 1, ("C2", 1): 1}),
    Case("UNITS-8MIN", "same code on two lines of one claim", "flag", source=POOL,
         claims=[claim("C1", 1, units=2), claim("C1", 2, units=2)], notes=[note(minutes=38)],
         expected={L2: 1}),
]

NPI_C = "111222333" + str(npi_check_digit("111222333"))


def _co_visit(name: str, kind: str, expected: dict, pt: tuple, ot: tuple, **kw) -> Case:
    """One patient, date and code billed by a PT (GP, NPI_A, line C1/1) and an OT (GO, NPI_B,
    line C2/1): (code, minutes, units[, note discipline[, note author]]) each."""
    claims, notes = [], []
    for cid, mods, npi, (code, minutes, units, *rest) in (
        ("C1", "GP", NPI_A, pt), ("C2", "GO", NPI_B, ot)
    ):
        disc, author = [*rest, None, None][:2]
        claims.append(claim(cid, 1, code=code, units=units, mods=mods, npi=npi))
        notes.append(note(f"N{cid}", code=code, minutes=minutes, npi=author or npi,
                          discipline=disc, start=None, end=None))
    return Case("UNITS-8MIN", name, kind, claims=claims, notes=notes, expected=expected,
                source=kw.pop("source", DISC), **kw)  # fmt: skip


def _hcodes(name: str, kind: str, expected: dict, profile: str = "medicaid", **kw) -> Case:
    """H2014 10 min and H2017 10 min, one unit each, for one patient-day."""
    return Case("UNITS-8MIN", name, kind, profile=profile, source=HCODE, expected=expected,
                claims=[claim("C1", 1, code="H2014", mods=None, payer=profile),
                        claim("C1", 2, code="H2017", mods=None, payer=profile)],
                notes=[note("N1", code="H2014", minutes=10), note("N2", code="H2017", minutes=10)],
                **kw)  # fmt: skip


DISCIPLINES = [
    # each discipline's note is found through its provider's line: 10 + 10 pooled as one code
    # would support 1 unit of the 2 billed
    _co_visit("PT and OT bill 97110 the same day", "clean", {}, ("97110", 10, 1), ("97110", 10, 1)),
    _co_visit("PT and OT bill 97110 and 97530", "clean", {},
              ("97110", 38, 3), ("97530", 23, 2)),
    _co_visit("the OT inflates 97110: only the OT line", "flag", {("C2", 1): 1},
              ("97110", 30, 2), ("97110", 30, 3)),
    _co_visit("the PT inflates 97110 by two", "flag", {("C1", 1): 2},
              ("97110", 23, 4), ("97110", 8, 1)),
    # both notes written by a third clinician: only the discipline column tells them apart
    _co_visit("discipline column on notes by another clinician", "flag", {("C2", 1): 1},
              ("97110", 30, 2, "PT", NPI_C), ("97110", 10, 2, "OT", NPI_C)),
    # without it the notes' discipline stays unknown: each line pools both notes' 40 minutes
    _co_visit("discipline unknown: notes pool with the lines they match", "blank", {},
              ("97110", 30, 2, None, NPI_C), ("97110", 10, 2, None, NPI_C)),
    # the PT line has no PT note (DOC-NO-NOTE's finding); the OT line has both OT notes
    _co_visit("an OT note documents the OT line only", "blank", {},
              ("97110", 30, 2, "OT"), ("97110", 10, 2)),
    _hcodes("H-codes counted per code (medicaid default)", "clean", {}),
    # 20 minutes pooled support 1 unit; equal deficits: the lower code carries the excess
    _hcodes("H-codes pooled when the state pools them", "flag", {L1: 1},
            params={"per_code": []}),
    _hcodes("H-codes pooled under medicare's default", "flag", {L1: 1}, profile="medicare"),
]

UNTIMED = [
    Case("UNITS-UNTIMED", "re-evaluation billed 2 units", "flag", source=S1,
         claims=[claim(code="97164", units=2)], expected={L1: 1}),
    Case("UNITS-UNTIMED", "one unit each of two codes", "clean", source=S1,
         claims=[claim("C1", 1, code="97164"), claim("C1", 2, code="97010")]),
    Case("UNITS-UNTIMED", "same code on two claims", "flag", source=POOL,
         claims=[claim("C1", 1, code="97150"), claim("C2", 1, code="97150")],
         expected={("C2", 1): 1}),
    Case("UNITS-UNTIMED", "one unit exactly", "boundary", source=S1,
         claims=[claim(code="97010", units=1)]),
    Case("UNITS-UNTIMED", "max 2 per day: 2 is clean", "boundary", source=S1,
         claims=[claim(code="97010", units=2)], params={"max_units_per_day": 2}),
    Case("UNITS-UNTIMED", "max 2 per day: 3 flags 1", "boundary", source=S1,
         claims=[claim(code="97010", units=3)], params={"max_units_per_day": 2},
         expected={L1: 1}),
    Case("UNITS-UNTIMED", "a zero-unit duplicate", "boundary", source=S1,
         claims=[claim("C1", 1, code="97164"), claim("C2", 1, code="97164", units=0)]),
    Case("UNITS-UNTIMED", "blank modifiers and paid amount", "blank", source=S1,
         claims=[claim(code="97150", units=2, mods=None, paid=None)], expected={L1: 1}),
    Case("UNITS-UNTIMED", "timed code is not its business", "clean", source=S1,
         claims=[claim(code="97110", units=4)], notes=[note(minutes=60)]),
    Case("UNITS-UNTIMED", "per-session H2032 twice a day", "flag", profile="medicaid",
         source="State Medicaid manuals: H2032 per session",
         claims=[claim(code="H2032", mods=None, payer="medicaid", units=2)], expected={L1: 1}),
]

MUE = [
    Case("UNITS-MUE", "97110 7 units over MUE 6", "flag", source=S6,
         claims=[claim(units=7)], notes=[note(minutes=100)], expected={L1: 1}),
    Case("UNITS-MUE", "97110 6 units at the MUE", "boundary", source=S6, claims=[claim(units=6)]),
    Case("UNITS-MUE", "97035 3 units over MUE 2", "boundary", source=S6,
         claims=[claim(code="97035", units=3)], expected={L1: 1}),
    Case("UNITS-MUE", "code not in the table", "clean", source=S6,
         claims=[claim(code="97140", units=12)]),
    Case("UNITS-MUE", "same code on two claims", "flag", source=POOL,
         claims=[claim("C1", 1, code="97112", units=3), claim("C2", 1, code="97112", units=2)],
         expected={("C2", 1): 1}),
    Case("UNITS-MUE", "blank modifiers and paid amount", "blank", source=S6,
         claims=[claim(code="97164", units=2, mods=None, paid=None)], expected={L1: 1}),
    Case("UNITS-MUE", "service year before the table uses its latest year", "flag", source=S6,
         claims=[claim(units=8, date="2023-05-01")], expected={L1: 2}),
]

SESSION = [
    _session("20-minute session", "flag", 20, expected={L1: 1}),
    _session("20-minute session billed twice: every unit", "flag", 20, 2, expected={L1: 2}),
    _session("45-minute session", "clean", 45),
    _session("29 minutes", "boundary", 29, expected={L1: 1}),
    _session("30 minutes", "boundary", 30),
    _session("state minimum 45: 44 flags", "boundary", 44, params={"min_session_minutes": 45},
             expected={L1: 1}),
    _session("blank minutes: TIME-MISSING's finding", "blank", None),
    _session("no note: DOC-NO-NOTE's finding", "blank", "none"),
    Case("UNITS-SESSION-MIN", "timed code is not a session", "clean", profile="medicaid",
         source=S1_SESSION, claims=[claim(code="H2033", mods=None, payer="medicaid")],
         notes=[note(code="H2033", minutes=10)]),
]
# fmt: on

CASES: list[Case] = EIGHT_MIN + DISCIPLINES + UNTIMED + MUE + SESSION


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_supported_units_and_texts() -> None:
    day = _day(("97112", 24, 2), ("97110", 23, 2))
    out = run_rule("UNITS-8MIN", make_data(day["claims"], day["notes"]))
    row = out.row(0, named=True)
    assert (row["supported_units"], row["excess_units"]) == (1, 1)
    assert row["message"].startswith("97110 was billed for 2 units but the note documents 23")
    assert "CMS total-time" in row["message"]
    assert "notes=N2" in row["evidence"]
    assert "day total=47 min → 3 units (cms)" in row["evidence"]


def test_pooled_lines_named_in_evidence() -> None:
    claims = [claim("C1", 1, units=2), claim("C2", 1, units=2)]
    out = run_rule("UNITS-8MIN", make_data(claims, [note(minutes=38)]))
    row = out.row(0, named=True)
    assert "4 units across 2 claim lines" in row["message"]
    assert "lines=C1/1+C2/1" in row["evidence"]
    assert row["supported_units"] == 1


def test_mue_year_selection() -> None:
    table = pl.LazyFrame(
        {"code": ["97110", "97110"], "year": [2024, 2026], "mue": [4, 6], "source": ["a", "b"]}
    )
    claims = [
        claim("C23", units=7, date="2023-06-01"),  # before the table: latest year (6)
        claim("C25", units=7, date="2025-06-01"),  # 2024's value still applies (4)
        claim("C27", units=7, date="2027-06-01"),  # latest year not after 2027 (6)
    ]
    data = dataclasses.replace(make_data(claims), mue=table)
    out = run_rule("UNITS-MUE", data)
    assert dict(zip(out["claim_id"], out["excess_units"], strict=True)) == {
        "C23": 1,
        "C25": 3,
        "C27": 1,
    }
    assert "MUE=4 (2024 table)" in out.filter(pl.col("claim_id") == "C25")["evidence"][0]


@pytest.mark.parametrize("rule_id", ["UNITS-8MIN", "UNITS-UNTIMED", "UNITS-MUE"])
def test_out_of_scope_lines_are_not_flagged(rule_id: str) -> None:
    claims = [claim(units=9), claim("C2", code="97164", units=3)]
    data = make_data(claims, [note(minutes=10)])
    data = dataclasses.replace(data, lines=data.lines.with_columns(in_scope=pl.lit(False)))
    assert run_rule(rule_id, data).height == 0


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="method"):
        run_rule("UNITS-8MIN", make_data([claim()], [note()]), method="midpoint")


def test_unknown_discipline_is_named_in_evidence() -> None:
    # both notes by a clinician who billed nothing: each line pools both
    case = _co_visit("unknown", "flag", {}, ("97110", 30, 4, None, NPI_C),
                     ("97110", 10, 1, None, NPI_C))  # fmt: skip
    out = run_rule("UNITS-8MIN", make_data(case.claims, case.notes))
    assert excess(out) == {("C1", 1): 1}
    evidence = out["evidence"][0]
    assert "discipline=PT (2 note rows of unknown discipline pooled with this line)" in evidence


def test_unbilled_minutes_in_message_and_evidence() -> None:
    case = _manual("ex2", "flag", EX2, {}, [("97112", 20, 3), ("97110", 20, 0)])
    row = run_rule("UNITS-8MIN", make_data(case.claims, case.notes)).row(0, named=True)
    assert "40 timed minutes that day, 20 of them documented but not billed," in row["message"]
    assert "day total=40 min → 3 units (cms); documented not billed=20 min" in row["evidence"]


def test_co_visit_inflation_charges_the_inflating_line_only() -> None:
    """The whole audit: the OT line's one unit above its minutes, at its paid rate per unit."""
    case = _co_visit("ot", "flag", {}, ("97110", 30, 2), ("97110", 30, 3))
    claims = pl.DataFrame(case.claims, schema=CLAIM_SCHEMA).with_columns(
        paid_amount=pl.Series([60.0, 90.0])
    )
    notes = pl.DataFrame(case.notes, schema=NOTE_SCHEMA).with_columns(
        start_time=pl.Series([dt.time(9), dt.time(10)]),
        end_time=pl.Series([dt.time(9, 30), dt.time(10, 30)]),
    )
    plans = pl.DataFrame([plan(), plan("POC2", discipline="OT")], schema=PLAN_SCHEMA)
    result = audit(
        claims, notes, plans, profiles=PROFILES, fee_schedule=fee_schedule(), mue=mue_table()
    )
    found = result.findings.filter(pl.col("rule_id") == "UNITS-8MIN")
    assert found.select("claim_id", "line_number", "excess_units", "amount_at_risk").rows() == [
        ("C2", 1, 1, 30.0)
    ]
    assert result.findings.height == 1, result.findings["rule_id"].to_list()
