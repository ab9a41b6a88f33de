"""Truth tables for OVERLAP-TIMED, OVERLAP-PROVIDER and OVERLAP-DAY-CAP, and property tests of
the sort-based sweeps against brute-force pairwise oracles (the oracles live only here)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.rulekit import (
    NPI_A,
    NPI_B,
    Case,
    check_case,
    claim,
    excess,
    make_data,
    note,
    run_rule,
)

S4 = "CMS Pub. 100-04 Ch. 5 §20.2 (the same minutes are not billed under two codes)"
CMS_UNITS = "CMS Pub. 100-04 ch. 5 §20.2"
ONE_ON_ONE = "CMS Pub. 100-02 Ch. 15 §220.2 (one-on-one services; two patients at once: group)"
OIG = "OIG OEI-04-09-00540 (more than 8 hours of therapy in a day)"
TIMES = "CMS Pub. 100-02 Ch. 15 §220.3 (times document the service)"
T, P, CAP = "OVERLAP-TIMED", "OVERLAP-PROVIDER", "OVERLAP-DAY-CAP"


def _pair(
    code_a: str, a: tuple[str, str], code_b: str, b: tuple[str, str], units: tuple[int, int]
) -> dict[str, Any]:
    """Two services of one patient and day: claims C1/1 (code_a) and C1/2 (code_b)."""
    mins = [
        (
            dt.datetime.fromisoformat(f"2026-01-01T{e}")
            - dt.datetime.fromisoformat(f"2026-01-01T{s}")
        )
        for s, e in (a, b)
    ]
    return {
        "claims": [
            claim("C1", 1, code=code_a, units=units[0]),
            claim("C1", 2, code=code_b, units=units[1]),
        ],
        "notes": [
            note("N1", code=code_a, start=a[0], end=a[1], minutes=mins[0].seconds // 60),
            note("N2", code=code_b, start=b[0], end=b[1], minutes=mins[1].seconds // 60),
        ],
    }


def _two_patients(a: tuple[str, str], b: tuple[str, str], **kw: Any) -> dict[str, Any]:
    """One 97110 service for P1 (C1/1, note N1) and one for P2 (C2/1, note N2)."""
    npi_b = kw.pop("npi_b", NPI_A)
    code_b = kw.pop("code_b", "97110")
    return {
        "claims": [claim("C1", 1, units=2), claim("C2", 1, patient="P2", code=code_b, units=2)],
        "notes": [
            note("N1", start=a[0], end=a[1], minutes=30),
            note("N2", patient="P2", npi=npi_b, code=code_b, start=b[0], end=b[1], minutes=30),
        ],
        **kw,
    }


def _day(units: list[int], **kw: Any) -> dict[str, Any]:
    """One provider's day: line i is patient P{i}'s 97110, its note starting at 08:00 + i h."""
    starts = kw.pop("starts", [f"{8 + i:02d}:00" for i in range(len(units))])
    return {
        "claims": [
            claim(f"C{i}", 1, patient=f"P{i}", units=u) for i, u in enumerate(units, start=1)
        ],
        "notes": [
            note(f"N{i}", patient=f"P{i}", start=s, end=None, minutes=u * 15)
            for i, (u, s) in enumerate(zip(units, starts, strict=True), start=1)
            if s is not None
        ],
        **kw,
    }


# fmt: off
TEAM = ("CMS Pub. 100-04 ch. 5 §20.2: two therapists treating one patient at the same time "
        "bill the minutes once; minutes count per discipline (GP/GO)")


def _pt_ot(pt: tuple[str, str], ot: tuple[str, str], **kw: Any) -> dict[str, Any]:
    """97110 billed 2 units by a PT (GP, NPI_A, C1/1) and by an OT (GO, NPI_B, C2/1) for P1,
    each documented by its own 30-minute note at the times given."""
    return {
        "claims": [claim("C1", 1, units=2, mods="GP"),
                   claim("C2", 1, units=2, mods="GO", npi=NPI_B)],
        "notes": [note("N1", start=pt[0], end=pt[1], minutes=30),
                  note("N2", npi=NPI_B, start=ot[0], end=ot[1], minutes=30), *kw.get("more", [])],
    }  # fmt: skip


CASES: list[Case] = [
    # --- OVERLAP-TIMED ------------------------------------------------------------------------
    Case(T, "PT then OT, same code, one after the other", "clean", source=TEAM,
         **_pt_ot(("09:00", "09:30"), ("09:30", "10:00"))),
    Case(T, "PT and OT at the same time: the later one loses the shared minutes", "flag",
         source=TEAM, **_pt_ot(("09:00", "09:30"), ("09:15", "09:45")),
         expected={("C2", 1): 1}),
    Case(P, "the OT sees another patient during the co-visit: the OT line only", "flag",
         source=ONE_ON_ONE, **_pt_ot(("09:00", "09:30"), ("10:00", "10:30"), more=[
             note("N3", patient="P2", npi=NPI_B, start="10:00", end="10:30", minutes=30)]),
         expected={("C2", 1): None}),
    Case(T, "97530 and 97110 share 15 minutes: later one loses them", "flag",
         **_pair("97530", ("09:00", "09:30"), "97110", ("09:15", "09:45"), (2, 2)),
         expected={("C1", 2): 1}, source=S4),
    Case(T, "same code documented twice over the same minutes", "flag",
         claims=[claim(units=4)],
         notes=[note("N1", start="09:00", end="09:30", minutes=30),
                note("N2", start="09:00", end="09:30", minutes=30)],
         expected={("C1", 1): 2}, source=S4),
    Case(T, "shared minutes but the rest still supports every unit: no money", "flag",
         **_pair("97530", ("09:00", "09:30"), "97110", ("09:25", "10:00"), (2, 2)),
         expected={("C1", 2): 0}, source=CMS_UNITS),
    # found in review: units of one code on two claims are pooled; the later line pays
    Case(T, "same code billed on two claims: pooled units, later line charged", "flag",
         claims=[claim("C1", 1, code="97530", units=2), claim("C1", 2, units=2),
                 claim("C2", 1, units=2)],
         notes=[note("N1", code="97530", start="09:00", end="09:30", minutes=30),
                note("N2", start="09:15", end="10:15", minutes=60)],
         expected={("C1", 2): 0, ("C2", 1): 1}, source=S4),
    Case(T, "one service inside another loses all its minutes", "flag",
         **_pair("97140", ("09:00", "10:00"), "97112", ("09:10", "09:40"), (4, 2)),
         expected={("C1", 2): 2}, source=S4),
    Case(T, "sequential services", "clean",
         **_pair("97530", ("09:00", "09:30"), "97110", ("09:45", "10:15"), (2, 2)), source=S4),
    Case(T, "group 97150 during 97110 is not one-on-one time", "clean",
         **_pair("97150", ("09:00", "09:30"), "97110", ("09:15", "09:45"), (1, 2)), source=S4),
    Case(T, "overlap on another day or for another patient", "clean",
         claims=[claim("C1", 1, units=2), claim("C2", 1, patient="P2", code="97530", units=2),
                 claim("C3", 1, date="2026-03-03", code="97530", units=2)],
         notes=[note("N1", end="09:30", minutes=30),
                note("N2", patient="P2", code="97530", end="09:30", minutes=30),
                note("N3", date="2026-03-03", code="97530", end="09:30", minutes=30)],
         source=S4),
    Case(T, "blank start time: no interval to compare", "blank",
         claims=[claim("C1", 1, code="97530", units=2), claim("C1", 2, units=2)],
         notes=[note("N1", code="97530", start="09:00", end="09:30", minutes=30),
                note("N2", start=None, end="09:45", minutes=30)],
         source=TIMES),
    Case(T, "blank minutes: documented minutes come from the times", "blank",
         claims=[claim("C1", 1, code="97530", units=2), claim("C1", 2, units=2)],
         notes=[note("N1", code="97530", start="09:00", end="09:30", minutes=None),
                note("N2", start="09:15", end="09:45", minutes=None)],
         expected={("C1", 2): 1}, source=S4),
    Case(T, "blank modifiers do not matter", "blank",
         claims=[claim("C1", 1, code="97530", units=2, mods=None),
                 claim("C1", 2, units=2, mods=None)],
         notes=[note("N1", code="97530", end="09:30", minutes=30),
                note("N2", start="09:15", end="09:45", minutes=30)],
         expected={("C1", 2): 1}, source=S4),
    Case(T, "touching intervals (end == next start) do not overlap", "boundary",
         **_pair("97530", ("09:00", "09:30"), "97110", ("09:30", "10:00"), (2, 2)), source=S4),
    Case(T, "8 distinct minutes left still support one unit", "boundary",
         **_pair("97530", ("08:50", "09:12"), "97110", ("09:00", "09:20"), (2, 1)),
         expected={("C1", 2): 0}, source=CMS_UNITS),
    Case(T, "7 distinct minutes left support none", "boundary",
         **_pair("97530", ("08:50", "09:13"), "97110", ("09:00", "09:20"), (2, 1)),
         expected={("C1", 2): 1}, source=CMS_UNITS),
    Case(T, "a line with 0 units is not reported", "boundary",
         **_pair("97530", ("09:00", "09:30"), "97110", ("09:15", "09:45"), (2, 0)), source=S4),
    # --- OVERLAP-PROVIDER ---------------------------------------------------------------------
    Case(P, "same therapist, two patients, 15 minutes at once: both lines", "flag",
         **_two_patients(("09:00", "09:30"), ("09:15", "09:45")),
         expected={("C1", 1): None, ("C2", 1): None}, source=ONE_ON_ONE),
    Case(P, "claim provider differs: the notes' provider is what counts", "flag",
         claims=[claim("C1", 1, npi=NPI_B), claim("C2", 1, patient="P2", npi=NPI_B)],
         notes=[note("N1", end="09:30"), note("N2", patient="P2", start="09:15", end="09:45")],
         expected={("C1", 1): None, ("C2", 1): None}, source=ONE_ON_ONE),
    # A's two notes merge into one block 09:00-10:00; B sits right after A's start, C later.
    # The note A2 overlaps only C, which is not A's neighbour in start order.
    Case(P, "overlapping partner not adjacent in start order", "flag",
         claims=[claim("C1", 1), claim("C1", 2, code="97530"),
                 claim("C2", 1, patient="P2"), claim("C3", 1, patient="P3")],
         notes=[note("A1", start="09:00", end="09:40"),
                note("A2", code="97530", start="09:30", end="10:00"),
                note("B", patient="P2", start="09:05", end="09:10"),
                note("C", patient="P3", start="09:45", end="09:50")],
         expected={("C1", 1): None, ("C1", 2): None, ("C2", 1): None, ("C3", 1): None},
         source=ONE_ON_ONE),
    Case(P, "two therapists, two patients at the same time", "clean",
         **_two_patients(("09:00", "09:30"), ("09:00", "09:30"), npi_b=NPI_B), source=S4),
    Case(P, "one patient, two codes at once is OVERLAP-TIMED's business", "clean",
         **_pair("97530", ("09:00", "09:30"), "97110", ("09:15", "09:45"), (2, 2)),
         source=ONE_ON_ONE),
    Case(P, "group therapy 97150 with two patients is allowed", "clean",
         claims=[claim("C1", 1, code="97150"), claim("C2", 1, patient="P2", code="97150")],
         notes=[note("N1", code="97150", end="09:30"),
                note("N2", patient="P2", code="97150", end="09:30")],
         source=ONE_ON_ONE),
    Case(P, "blank end time on one patient's note", "blank",
         **_two_patients(("09:00", "09:30"), ("09:15", None)), source=TIMES),
    Case(P, "blank modifiers: still one-on-one codes", "blank",
         claims=[claim("C1", 1, mods=None), claim("C2", 1, patient="P2", mods=None)],
         notes=[note("N1", end="09:30"), note("N2", patient="P2", start="09:15", end="09:45")],
         expected={("C1", 1): None, ("C2", 1): None}, source=ONE_ON_ONE),
    Case(P, "touching sessions of two patients", "boundary",
         **_two_patients(("09:00", "09:30"), ("09:30", "10:00")), source=ONE_ON_ONE),
    Case(P, "overlap equal to min_overlap_minutes counts", "boundary",
         **_two_patients(("09:00", "09:30"), ("09:25", "09:55")), params={"min_overlap_minutes": 5},
         expected={("C1", 1): None, ("C2", 1): None}, source=ONE_ON_ONE),
    Case(P, "overlap one minute short of min_overlap_minutes", "boundary",
         **_two_patients(("09:00", "09:30"), ("09:26", "09:56")), params={"min_overlap_minutes": 5},
         source=ONE_ON_ONE),
    # the other patient's two touching notes are one stretch of 20 minutes: 6 shared minutes
    # for P1's note, but only 3 with each of P2's notes
    Case(P, "another patient's touching notes count together", "boundary",
         claims=[claim("C1", 1), claim("C2", 1, patient="P2"),
                 claim("C2", 2, patient="P2", code="97530")],
         notes=[note("N1", start="09:07", end="09:13"),
                note("N2", patient="P2", start="09:00", end="09:10"),
                note("N3", patient="P2", code="97530", start="09:10", end="09:20")],
         params={"min_overlap_minutes": 5}, expected={("C1", 1): None}, source=ONE_ON_ONE),
    # --- OVERLAP-DAY-CAP ----------------------------------------------------------------------
    Case(CAP, "9 hours billed: the line past 8 hours", "flag",
         **_day([4] * 9), expected={("C9", 1): None}, source=OIG),
    Case(CAP, "the latest session by note time is the one beyond the cap", "flag",
         **_day([4] * 9, starts=["17:00", *[f"{8 + i:02d}:00" for i in range(1, 9)]]),
         expected={("C1", 1): None}, source=OIG),
    Case(CAP, "8 hours across two providers", "clean",
         claims=[claim(f"C{i}", 1, patient=f"P{i}", units=4, npi=NPI_A if i % 2 else NPI_B)
                 for i in range(1, 13)],
         source=OIG),
    Case(CAP, "untimed and group codes do not count", "clean",
         claims=[*_day([4] * 8)["claims"], claim("C9", 1, patient="P9", code="97150"),
                 claim("C10", 1, patient="P10", code="97161", mods=None)],
         source=OIG),
    Case(CAP, "state review cap of 12 hours", "clean",
         **_day([4] * 9), params={"cap_minutes": 720}, source=OIG),
    Case(CAP, "lines without note times go last", "blank",
         **_day([4] * 9, starts=[None, *[f"{8 + i:02d}:00" for i in range(1, 9)]]),
         expected={("C1", 1): None}, source=OIG),
    Case(CAP, "exactly 480 minutes", "boundary", **_day([4] * 8), source=OIG),
    Case(CAP, "480 minutes plus one unit", "boundary",
         **_day([4] * 8 + [1]), expected={("C9", 1): None}, source=OIG),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_timed_evidence_and_message() -> None:
    data = make_data(**_pair("97530", ("09:00", "09:30"), "97110", ("09:15", "09:45"), (2, 2)))
    row = run_rule(T, data).row(0, named=True)
    assert row["evidence"] == "notes=N1;N2; 97530 09:00–09:30 overlaps 97110 09:15–09:45 (15 min)"
    assert row["supported_units"] == 1
    assert "P1" not in row["message"] and row["message"].count(".") == 1


def test_provider_evidence_names_no_patient() -> None:
    data = make_data(**_two_patients(("09:00", "09:30"), ("09:15", "09:45")))
    out = run_rule(P, data)
    assert "97150" in out["message"][0]
    assert out["evidence"][0].startswith("notes=N1;N2; 09:00–09:30 overlaps")
    assert not any("P1" in e or "P2" in e for e in out["evidence"])


# --- property tests: sort-based sweeps vs. brute-force pairwise oracles ------------------------

CODES = ["97110", "97112", "97116", "97140", "97530", "97535", "97032", "97033", "97034",
         "97035", "97036", "97129", "97130"]  # fmt: skip
interval = st.tuples(st.integers(0, 60), st.integers(1, 40))


def _clock(minute: int) -> str:
    return f"{9 + minute // 60:02d}:{minute % 60:02d}"


def _minutes(s: int, e: int) -> set[int]:
    return set(range(s, e))


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["P1", "P2"]), st.integers(0, 2), interval),
        min_size=1,
        max_size=12,
    ),
    units=st.integers(1, 4),
)
def test_timed_matches_pairwise_oracle(
    rows: list[tuple[str, int, tuple[int, int]]], units: int
) -> None:
    notes = [
        note(f"N{i:02d}", patient=p, code=CODES[c], start=_clock(s), end=_clock(s + n), minutes=n)
        for i, (p, c, (s, n)) in enumerate(rows)
    ]
    keys = sorted({(p, CODES[c]) for p, c, _ in rows})
    claims = [
        claim(f"C{i}", 1, patient=p, code=code, units=units) for i, (p, code) in enumerate(keys)
    ]
    got = excess(run_rule(T, make_data(claims, notes)))

    # oracle: each row loses the minutes already covered by rows earlier in (start, end, id)
    ordered = sorted(
        ((p, s, s + n, i, CODES[c]) for i, (p, c, (s, n)) in enumerate(rows)),
        key=lambda r: (r[0], r[1], r[2], r[3]),
    )
    shared: dict[tuple[str, str], int] = {}
    documented: dict[tuple[str, str], int] = {}
    for k, (p, s, e, _, code) in enumerate(ordered):
        earlier = set().union(*(_minutes(r[1], r[2]) for r in ordered[:k] if r[0] == p))
        shared[(p, code)] = shared.get((p, code), 0) + len(_minutes(s, e) & earlier)
        documented[(p, code)] = documented.get((p, code), 0) + (e - s)
    want = {}
    for i, key in enumerate(keys):
        if shared[key] == 0:
            continue
        distinct = documented[key] - min(shared[key], documented[key])
        supported = 0 if distinct < 8 else (distinct + 7) // 15
        want[(f"C{i}", 1)] = max(0, units - supported)
    assert got == want


def _blocks(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping or touching intervals (the documented semantics of a party's time)."""
    out: list[list[int]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


@settings(max_examples=100, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["P1", "P2", "P3"]), st.sampled_from([NPI_A, NPI_B]), interval),
        min_size=1,
        max_size=12,
    ),
    min_overlap=st.integers(1, 6),
)
def test_provider_matches_pairwise_oracle(
    rows: list[tuple[str, str, tuple[int, int]]], min_overlap: int
) -> None:
    # one code per note, so each note is its own claim line
    notes = [
        note(f"N{i:02d}", patient=p, npi=npi, code=CODES[i], start=_clock(s), end=_clock(s + n))
        for i, (p, npi, (s, n)) in enumerate(rows)
    ]
    claims = [claim(f"C{i}", 1, patient=p, code=CODES[i]) for i, (p, _, _) in enumerate(rows)]
    got = set(excess(run_rule(P, make_data(claims, notes), min_overlap_minutes=min_overlap)))

    def overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
        return min(a[1], b[1]) - max(a[0], b[0])

    spans = [(s, s + n) for _, _, (s, n) in rows]
    pairwise = {
        (f"C{i}", 1)
        for i, (p, npi, _) in enumerate(rows)
        for j, (q, npj, _) in enumerate(rows)
        if p != q and npi == npj and overlap(spans[i], spans[j]) >= 1
    }
    merged = {
        (f"C{i}", 1)
        for i, (p, npi, _) in enumerate(rows)
        for q in {"P1", "P2", "P3"} - {p}
        for block in _blocks([spans[j] for j, r in enumerate(rows) if r[0] == q and r[1] == npi])
        if overlap(spans[i], block) >= min_overlap
    }
    if min_overlap == 1:
        # with whole minutes, one shared minute with any other patient's note flags the row
        assert got == pairwise
    assert got == merged
