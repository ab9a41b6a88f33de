"""Truth tables of the unit rules (checks/rules/units.py): UNITS-8MIN, UNITS-UNTIMED, UNITS-MUE,
UNITS-SESSION-MIN."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import rulekit
from tests.support.rulekit import Case, check_case, claim, make_data, note, run_rule

S2 = "billing-rules.md §2 (CMS Pub. 100-04 Ch. 5 §20.2)"
S2_EX1 = "billing-rules.md §2 worked example 97112 24 min + 97110 23 min"
S2_EX2 = "billing-rules.md §2 worked example 97110 33 min + 97140 7 min"
S2_AMA = "billing-rules.md §2 AMA/CPT midpoint method"
S2_CAP = "billing-rules.md §2 'a single code may never carry more than floor(minutes/15) + 1'"
POOL = "brief: units pooled per (patient, date, code), later-billed line first"
S1 = "billing-rules.md §1 (untimed codes, 1 per day)"
S6 = "billing-rules.md §6 Medically Unlikely Edits (data/reference/mue.csv)"
S1_SESSION = "billing-rules.md §1 H2032 (>= 30 min to qualify)"
S3 = "billing-rules.md §3 (rows without minutes are TIME-MISSING's finding)"


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
         source="billing-rules.md §1 H2032 per session",
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

CASES: list[Case] = EIGHT_MIN + UNTIMED + MUE + SESSION


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


CODES = ["97110", "97112", "97140"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 70), st.integers(1, 6)), min_size=1, max_size=3))
def test_cms_flags_only_what_no_allocation_supports(items: list[tuple[int, int]]) -> None:
    """Supported units form a valid CMS allocation (each code within min(billed, cap), the day
    within N) that supports as many units as any valid allocation could."""
    day = _day(*[(CODES[i], m, b) for i, (m, b) in enumerate(items)])
    out = run_rule("UNITS-8MIN", make_data(day["claims"], day["notes"]))
    excess = dict(zip(out["line_number"], out["excess_units"], strict=True))
    total = sum(m for m, _ in items)
    n = 0 if total < 8 else (total + 7) // 15
    supported = []
    for i, (m, b) in enumerate(items):
        cap = m // 15 + 1 if m > 0 else 0
        s = b - excess.get(i + 1, 0)
        assert 0 <= s <= min(b, cap)
        supported.append(s)
    best = min(n, sum(min(b, m // 15 + 1 if m > 0 else 0) for m, b in items))
    assert sum(supported) == best


# Untimed codes per discipline and provider; MUEs per provider.
T1019 = (
    "CMS Pub. 100-04 Transmittal 1019 (2006): untimed codes billed no more than once per "
    "provider, per discipline, per date of service, per patient"
)
S8 = "billing-rules.md §8 'Disciplines are separate' (Transmittal 1019)"
MUE_DEF = (
    "CMS NCCI MUEs: the most units of a HCPCS/CPT code reported by the same provider for the "
    "same beneficiary on the same date of service"
)
NPI_B = rulekit.NPI_B


def _untimed(name: str, kind: str, *lines: tuple, expected: dict | None = None, **kw) -> Case:
    """A UNITS-UNTIMED case: (claim, line, code, modifiers, npi, units) per claim line."""
    claims = [
        claim(c, n, code=code, mods=mods, npi=npi, units=u) for c, n, code, mods, npi, u in lines
    ]
    return Case("UNITS-UNTIMED", name, kind, claims=claims, expected=expected or {}, **kw)


A = rulekit.NPI_A
# fmt: off
UNTIMED_BY_DISCIPLINE = [
    _untimed("PT and OT each bill 97150 the same day", "clean",
             ("C1", 1, "97150", "GP", A, 1), ("C2", 1, "97150", "GO", NPI_B, 1), source=T1019),
    _untimed("PT and OT each bill G0283 the same day", "clean",
             ("C1", 1, "G0283", "GP", A, 1), ("C2", 1, "G0283", "GO", NPI_B, 1), source=S8),
    _untimed("PT evaluation 97161 and OT evaluation 97165 the same day", "clean",
             ("C1", 1, "97161", None, A, 1), ("C2", 1, "97165", None, NPI_B, 1), source=T1019),
    _untimed("PT and OT re-evaluations on one claim", "clean",
             ("C1", 1, "97164", "GP", A, 1), ("C1", 2, "97168", "GO", NPI_B, 1), source=T1019),
    _untimed("same PT provider bills 97150 twice on one claim", "flag",
             ("C1", 1, "97150", "GP", A, 1), ("C1", 2, "97150", "GP", A, 1),
             expected={L2: 1}, source=T1019),
    _untimed("same PT provider bills 97150 on two claims", "flag",
             ("C1", 1, "97150", "GP", A, 1), ("C2", 1, "97150", "GP", A, 1),
             expected={("C2", 1): 1}, source=T1019),
    # the allowance is per provider as well as per discipline
    _untimed("two PT providers each bill 97150 once", "clean",
             ("C1", 1, "97150", "GP", A, 1), ("C2", 1, "97150", "GP", NPI_B, 1), source=T1019),
    _untimed("PT bills 97150 twice, OT once: only the PT's later line", "flag",
             ("C1", 1, "97150", "GP", A, 1), ("C1", 2, "97150", "GO", NPI_B, 1),
             ("C1", 3, "97150", "GP", A, 1), expected={("C1", 3): 1}, source=T1019),
    _untimed("PT 97150 with 2 units, OT 97150 with 1", "boundary",
             ("C1", 1, "97150", "GP", A, 2), ("C2", 1, "97150", "GO", NPI_B, 1),
             expected={L1: 1}, source=T1019),
    _untimed("PT and OT 97150 under max 2: 2 units each clean", "boundary",
             ("C1", 1, "97150", "GP", A, 2), ("C2", 1, "97150", "GO", NPI_B, 2),
             params={"max_units_per_day": 2}, source=T1019),
    _untimed("zero-unit PT duplicate of a PT 97150", "boundary",
             ("C1", 1, "97150", "GP", A, 1), ("C2", 1, "97150", "GP", A, 0), source=T1019),
    _untimed("blank modifiers: both lines of one provider share an allowance", "blank",
             ("C1", 1, "97150", None, A, 1), ("C2", 1, "97150", None, A, 1),
             expected={("C2", 1): 1}, source=T1019),
    _untimed("blank modifier apart from a GO line", "blank",
             ("C1", 1, "97150", None, A, 1), ("C2", 1, "97150", "GO", A, 1), source=T1019),
    # per-session codes keep one allowance per patient, day and code (state manuals)
    Case("UNITS-UNTIMED", "per-session H2032 by two providers", "flag", profile="medicaid",
         source="billing-rules.md §1 H2032 per session",
         claims=[claim("C1", 1, code="H2032", mods=None, payer="medicaid"),
                 claim("C2", 1, code="H2032", mods=None, payer="medicaid", npi=NPI_B)],
         expected={("C2", 1): 1}),
]

MUE_BY_PROVIDER = [
    Case("UNITS-MUE", "two providers' 97110 units counted apart", "clean", source=MUE_DEF,
         claims=[claim("C1", 1, units=4), claim("C2", 1, units=4, npi=NPI_B)]),
    Case("UNITS-MUE", "one provider's 97110 over the MUE across two claims", "flag",
         source=MUE_DEF, claims=[claim("C1", 1, units=4), claim("C2", 1, units=3)],
         expected={("C2", 1): 1}),
    Case("UNITS-MUE", "only the provider over the MUE is charged", "flag", source=MUE_DEF,
         claims=[claim("C1", 1, units=6), claim("C2", 1, units=7, npi=NPI_B)],
         expected={("C2", 1): 1}),
    Case("UNITS-MUE", "PT and OT evaluations of one patient and day", "clean", source=MUE_DEF,
         claims=[claim("C1", 1, code="97161", mods=None),
                 claim("C2", 1, code="97165", mods=None, npi=NPI_B)]),
    Case("UNITS-MUE", "two providers at the MUE exactly", "boundary", source=MUE_DEF,
         claims=[claim("C1", 1, code="97035", units=2),
                 claim("C2", 1, code="97035", units=2, npi=NPI_B)]),
]
# fmt: on


@pytest.mark.parametrize("case", UNTIMED_BY_DISCIPLINE + MUE_BY_PROVIDER, ids=lambda c: c.id)
def test_discipline_and_provider_case(case: Case) -> None:
    check_case(case)


def test_untimed_evidence_names_the_allowance() -> None:
    claims = [claim("C1", 1, code="97150"), claim("C2", 1, code="97150")]
    out = run_rule("UNITS-UNTIMED", make_data(claims))
    row = out.row(0, named=True)
    assert "2 units across 2 claim lines" in row["message"]
    assert "per patient, day, discipline and provider" in row["message"]
    assert f"discipline=PT; provider={rulekit.NPI_A}; lines=C1/1+C2/1" in row["evidence"]


def test_mue_evidence_names_the_provider() -> None:
    claims = [claim("C1", 1, units=4), claim("C2", 1, units=3), claim("C3", 1, npi=NPI_B)]
    out = run_rule("UNITS-MUE", make_data(claims))
    row = out.row(0, named=True)
    assert "7 units across 2 claim lines by one provider" in row["message"]
    assert f"provider={rulekit.NPI_A}; day units=7; lines=C1/1+C2/1" in row["evidence"]
