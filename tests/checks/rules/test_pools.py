"""Whose lines share an allowance, through the engine with the shipped profiles: each payer's
claims carry their own units (a dual-eligible's session billed to Medicare and to Medicaid), and
an assistant's minutes count towards the lines of the discipline they document.

The engine runs a rule once for the profiles that configure it alike, so these cases can only be
seen through it: a rule run for one profile never sees another payer's lines in scope. (Named
POOLS, not CASES: the rule catalogue's truth tables are rulekit Cases run one rule at a time.)
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pytest

from checks.engine import run_rules
from checks.registry import all_rules
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    NPI_A,
    NPI_B,
    PLAN_SCHEMA,
    claim,
    mue_table,
    note,
    plan,
    provider,
    shipped_profiles,
)

PROFILES = shipped_profiles()
NCCI = (
    "CMS NCCI MUEs edit one payer's claims (Medicare's; Medicaid NCCI has its own): the units "
    "of the same provider, beneficiary and date on that payer's claims"
)
T1019 = "CMS Pub. 100-04 Transmittal 1019: untimed codes once per provider, discipline, date"
CQ = (
    "CMS Pub. 100-04 ch. 5 §20.1: CQ marks a PT assistant's services, CO an OT assistant's; "
    "BBA 2018 §53107"
)
NPI_PTA = "1999999991"
OEI = (
    "OIG OEI-04-09-00540: over 8 hours of therapy billed by one provider in a day is "
    "questionable; one session billed to Medicare and to Medicaid is one session of time"
)


def _sessions(first: int, count: int, *, dual: bool) -> tuple[list[dict], list[dict]]:
    """`count` one-hour 97110 sessions of one provider, a patient each, from 08:00 + `first`
    hours; a dual-eligible's is billed to Medicare (claim a) and Medicaid (claim b)."""
    claims, notes = [], []
    for i in range(first, first + count):
        payers = ("medicare", "medicaid") if dual else ("medicare",)
        for payer, suffix in zip(payers, "ab", strict=False):
            claims.append(claim(f"C{i}{suffix}", 1, patient=f"P{i}", units=4, payer=payer))
        notes.append(note(f"N{i}", patient=f"P{i}", start=f"{8 + i:02d}:00",
                          end=f"{9 + i:02d}:00", minutes=60))  # fmt: skip
    return claims, notes


_DUAL5 = _sessions(0, 5, dual=True)
_SOLO4, _DUAL_LATE = _sessions(0, 4, dual=False), _sessions(4, 5, dual=True)


@dataclass(frozen=True)
class Pool:
    name: str
    source: str
    rule_id: str
    claims: list[dict]
    notes: list[dict]
    expected: set[tuple[str, int]]
    providers: list[dict] | None = None


def _dual(code: str, units: int, mods: str | None = "GP") -> list[dict]:
    """One session billed to Medicare (C1) and to Medicaid (C2) for a dual-eligible."""
    return [
        claim("C1", 1, code=code, units=units, mods=mods, payer="medicare"),
        claim("C2", 1, code=code, units=units, mods=mods, payer="medicaid"),
    ]


PTA = provider(NPI_PTA, "PTA", discipline="PT", supervising=NPI_A)
PT = provider(NPI_A, "PT", discipline="PT")
OT = provider(NPI_B, "OT", discipline="OT")

# fmt: off
POOLS = [
    # the MUE of 97110 is 6 a day: 4 units on each claim are 8 when pooled
    Pool("dual-eligible 97110 within the MUE on each payer's claim", NCCI, "UNITS-MUE",
         _dual("97110", 4), [note(end="10:00", minutes=60)], set()),
    Pool("dual-eligible 97110 over the MUE on the Medicare claim", NCCI, "UNITS-MUE",
         [claim("C1", 1, units=7, payer="medicare"), claim("C2", 1, units=6, payer="medicaid")],
         [note(end="10:45", minutes=105)], {("C1", 1)}),
    Pool("dual-eligible 97150 once on each payer's claim", T1019, "UNITS-UNTIMED",
         _dual("97150", 1), [note(code="97150")], set()),
    Pool("97150 twice on the Medicare claims, once on Medicaid's", T1019, "UNITS-UNTIMED",
         [claim("C1", 1, code="97150", payer="medicare"),
          claim("C3", 1, code="97150", payer="medicare"),
          claim("C2", 1, code="97150", payer="medicaid")],
         [note(code="97150")], {("C3", 1)}),
    Pool("PTA's PT minutes billed GP:CQ, an OT's own 97110 the same day", CQ,
         "ASSISTANT-MOD-MISSING",
         [claim("C1", 1, units=2, mods="GP:CQ", npi=NPI_A),
          claim("C1", 2, units=2, mods="GO", npi=NPI_B)],
         [note("N1", npi=NPI_PTA, end="09:30", minutes=30, discipline="PT"),
          note("N2", npi=NPI_B, start="10:00", end="10:30", minutes=30, discipline="OT")],
         set(), providers=[PTA, PT, OT]),
    Pool("PTA's PT minutes billed GP without CQ, an OT's 97110 the same day", CQ,
         "ASSISTANT-MOD-MISSING",
         [claim("C1", 1, units=2, mods="GP", npi=NPI_A),
          claim("C1", 2, units=2, mods="GO", npi=NPI_B)],
         [note("N1", npi=NPI_PTA, end="09:30", minutes=30, discipline="PT"),
          note("N2", npi=NPI_B, start="10:00", end="10:30", minutes=30, discipline="OT")],
         {("C1", 1)}, providers=[PTA, PT, OT]),
    # 97110 has no discipline of its own: the line without GP pools with the GP line, so the
    # PTA's 30 of 60 minutes need CQ on 2 of the service's 4 units, not on 2 of each line's
    Pool("PTA 30 + PT 30 min, one line GP and one without a modifier", CQ,
         "ASSISTANT-MOD-MISSING",
         [claim("C1", 1, units=2, mods="GP", npi=NPI_A),
          claim("C1", 2, units=2, mods=None, npi=NPI_A)],
         [note("N1", npi=NPI_PTA, end="09:30", minutes=30, discipline="PT"),
          note("N2", npi=NPI_A, start="09:30", end="10:00", minutes=30, discipline="PT")],
         {("C1", 2)}, providers=[PTA, PT, OT]),
    Pool("five dual-eligible hours billed to two payers: 300 minutes, not 600", OEI,
         "OVERLAP-DAY-CAP", *_DUAL5, set()),
    Pool("four hours, then five dual-eligible ones: the ninth passes 480 on both claims", OEI,
         "OVERLAP-DAY-CAP", _SOLO4[0] + _DUAL_LATE[0], _SOLO4[1] + _DUAL_LATE[1],
         {("C8a", 1), ("C8b", 1)}),
    # seven hours, then lines without note times (sorted by claim): P1's Medicaid claim counts
    # its session and reaches 480 exactly; P2's passes the cap; P1's Medicare copy sorts after
    # P2 but its session, counted at 480, is within the cap
    Pool("a copy sorting after another session is judged by its own session", OEI,
         "OVERLAP-DAY-CAP",
         _sessions(0, 7, dual=False)[0]
         + [claim("D1", 1, patient="Q1", units=4, payer="medicaid"),
            claim("D2", 1, patient="Q2", units=4, payer="medicare"),
            claim("D3", 1, patient="Q1", units=4, payer="medicare")],
         _sessions(0, 7, dual=False)[1], {("D2", 1)}),
    Pool("a session billed 5 units to Medicare and 2 to Medicaid counts the Medicare 75", OEI,
         "OVERLAP-DAY-CAP",
         _sessions(0, 7, dual=False)[0]
         + [claim("E1", 1, patient="Q1", units=2, payer="medicaid"),
            claim("E2", 1, patient="Q1", units=5, payer="medicare")],
         _sessions(0, 7, dual=False)[1]
         + [note("NQ", patient="Q1", start="15:00", end="16:15", minutes=75)],
         {("E1", 1), ("E2", 1)}),
]
# fmt: on


def _run(
    rule_id: str,
    claims: list[dict],
    notes: list[dict],
    plans: list[dict] | None = None,
    **kw: object,
) -> tuple[pl.DataFrame, dict]:
    """One rule through the engine with the shipped profiles: raw rows and the rule runs."""
    raw, runs, _ = run_rules(
        pl.LazyFrame(claims, schema=CLAIM_SCHEMA),
        pl.LazyFrame(notes, schema=NOTE_SCHEMA),
        pl.LazyFrame(plans or [plan()], schema=PLAN_SCHEMA),
        profiles=PROFILES,
        mue=mue_table(),
        rules={rule_id: all_rules()[rule_id]},
        **kw,  # type: ignore[arg-type]
    )
    return raw, runs


def _excess(rule_id: str, claims: list[dict], notes: list[dict], **kw: object) -> dict:
    raw, _ = _run(rule_id, claims, notes, **kw)
    return {(c, n): e for c, n, e in raw.select("claim_id", "line_number", "excess_units").rows()}


@pytest.mark.parametrize("case", POOLS, ids=lambda c: c.name)
def test_pool(case: Pool) -> None:
    plans = [plan(f"PL-{d}", discipline=d) for d in ("PT", "OT")]
    providers = None if case.providers is None else pl.LazyFrame(case.providers)
    raw, runs = _run(case.rule_id, case.claims, case.notes, plans, providers=providers)
    assert runs[case.rule_id].error is None, case.source
    flagged = set(raw.select("claim_id", "line_number").rows())
    assert flagged == case.expected, case.source


def test_overlapping_time_is_charged_on_each_payers_claim() -> None:
    """A dual-eligible's 97530 starting 15 minutes into the 97110 (30 minutes each), both billed
    2 units to Medicare (C1) and to Medicaid (C2): the 97530's 15 distinct minutes support 1
    unit, so each claim's 97530 line bills 1 unit too many (Pub. 100-04 ch. 5 §20.2), not 3 on
    the later claim and none on the other."""
    claims = [
        claim(c, n, code=code, units=2, payer=payer)
        for c, payer in (("C1", "medicare"), ("C2", "medicaid"))
        for n, code in ((1, "97110"), (2, "97530"))
    ]
    notes = [
        note("N1", code="97110", start="09:00", end="09:30", minutes=30),
        note("N2", code="97530", start="09:15", end="09:45", minutes=30),
    ]
    assert _excess("OVERLAP-TIMED", claims, notes) == {("C1", 2): 1, ("C2", 2): 1}


@pytest.mark.parametrize(
    ("medicare_units", "expected"),
    [(2, {}), (3, {("C1", 1): 1})],
    ids=["each claim within the minutes", "the Medicare claim one unit over"],
)
def test_the_8_minute_rule_holds_each_payers_claim_to_the_days_minutes(
    medicare_units: int, expected: dict[tuple[str, int], int]
) -> None:
    """Under one profile for every line (`--profile medicare`), a dual-eligible's 30 minutes of
    97110 support 2 units (Pub. 100-04 ch. 5 §20.2) on the Medicare claim and 2 on the Medicaid
    claim of the same session: the two claims are not 4 units against 2."""
    claims = [
        claim("C1", 1, units=medicare_units, payer="medicare"),
        claim("C2", 1, units=2, payer="medicaid"),
    ]
    notes = [note(end="09:30", minutes=30)]
    assert _excess("UNITS-8MIN", claims, notes, override=PROFILES["medicare"]) == expected


def test_unbilled_minutes_count_in_every_payer_types_pool() -> None:
    """Pub. 100-04 ch. 5 §20.2 Example 5: documented timed minutes nobody billed count in the
    day's total. 30 minutes of 97110 and 15 of 97140 (not billed) are 45 minutes, 3 units: a
    dual-eligible's Medicare and Medicaid claims of 97110 x 3 are each within them."""
    claims = [
        claim("C1", 1, units=3, payer="medicare"),
        claim("C2", 1, units=3, payer="medicaid"),
    ]
    notes = [
        note("N1", end="09:30", minutes=30),
        note("N2", code="97140", start="09:30", end="09:45", minutes=15),
    ]
    assert _excess("UNITS-8MIN", claims, notes, override=PROFILES["medicare"]) == {}


def test_the_commercial_profiles_payer_types_keep_their_own_units() -> None:
    """The shipped commercial profile covers payer types commercial and other (AMA midpoint):
    a session billed 2 units on each's claim against 30 documented minutes (2 units) is clean;
    3 units on the other payer's claim are one too many."""
    notes = [note(end="09:30", minutes=30)]
    both = [
        claim("C1", 1, units=2, mods="GP", payer="commercial"),
        claim("C2", 1, units=2, mods="GP", payer="other"),
    ]
    assert _excess("UNITS-8MIN", both, notes) == {}
    over = [both[0], claim("C2", 1, units=3, mods="GP", payer="other")]
    assert _excess("UNITS-8MIN", over, notes) == {("C2", 1): 1}
