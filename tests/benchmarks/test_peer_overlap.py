"""The DuckDB peers of OVERLAP-PROVIDER and OVERLAP-DAY-CAP flag the lines our rules flag and
the lines the sources expect: one therapist's one-on-one services for two patients at once
(Pub. 100-02 ch. 15 §220.2) and a provider's timed minutes beyond the shipped profiles' 480-minute
day (OIG OEI-04-09-00540), both looking at the provider's whole day across payers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.benchmarks.duckdb_peer import overlap
from tests.benchmarks.test_peer_plans_progress import Row, flagged, write

D = dt.date(2026, 3, 2)


def _line(claim: str, npi: str, payer: str, code: str, modifiers: str, units: int = 1) -> Row:
    return (claim, 1, claim, npi, payer, D, code, modifiers, units)


def _note(pid: str, npi: str, code: str, start: str, end: str, discipline: str = "PT") -> Row:
    return (f"{pid}-{code}-{start}", pid, npi, D, code, start, end, discipline, "treatment")


def test_overlap_provider(tmp_path: Path) -> None:
    claims = [
        # one therapist with two patients at once, of different payers: both lines, each under
        # its own payer's profile
        _line("X1", "A1", "medicare", "97110", "GP"),
        _line("Y1", "A1", "commercial", "97530", "GP"),
        # back to back (10:30 ends one, starts the other) is not at the same time
        _line("X2", "A2", "medicare", "97110", "GP"),
        _line("Y2", "A2", "medicare", "97110", "GP"),
        # one patient's two overlapping services are OVERLAP-TIMED's, not this rule's
        _line("X3", "A3", "medicare", "97110", "GP"),
        ("X3", 2, "X3", "A3", "medicare", D, "97140", "GP", 1),
        # two therapists at the same time, each with a patient
        _line("X4", "B4", "medicare", "97110", "GP"),
        _line("Y4", "C4", "medicare", "97110", "GP"),
        # group therapy (97150) is not one-on-one
        _line("X5", "A5", "medicare", "97150", "GP"),
        _line("Y5", "A5", "medicare", "97150", "GP"),
        # the other patient's service was documented but not billed: the billed one still is
        _line("X6", "A6", "medicaid", "97110", "GP"),
        # one minute shared is enough (min_overlap_minutes = 1)
        _line("X8", "A8", "medicare", "97110", "GP"),
        _line("Y8", "A8", "medicare", "97112", "GP"),
    ]
    # PT and OT bill 97110 for W7 the same day: only the PT's note overlaps V7's service
    claims += [
        ("W7", 1, "W7", "A7", "medicare", D, "97110", "GP", 1),
        ("W7", 2, "W7", "B7", "medicare", D, "97110", "GO", 1),
        _line("V7", "A7", "medicare", "97112", "GP"),
    ]
    notes = [
        _note("X1", "A1", "97110", "09:00", "09:30"),
        _note("Y1", "A1", "97530", "09:15", "09:45"),
        _note("X2", "A2", "97110", "10:00", "10:30"),
        _note("Y2", "A2", "97110", "10:30", "11:00"),
        _note("X3", "A3", "97110", "11:00", "11:30"),
        _note("X3", "A3", "97140", "11:15", "11:45"),
        _note("X4", "B4", "97110", "09:00", "09:30"),
        _note("Y4", "C4", "97110", "09:00", "09:30"),
        _note("X5", "A5", "97150", "13:00", "14:00"),
        _note("Y5", "A5", "97150", "13:00", "14:00"),
        _note("Z6", "A6", "97110", "14:00", "14:30"),
        _note("X6", "A6", "97110", "14:10", "14:40"),
        _note("W7", "A7", "97110", "15:00", "15:30"),
        _note("W7", "B7", "97110", "16:00", "16:30", "OT"),
        _note("V7", "A7", "97112", "15:20", "15:50"),
        _note("X8", "A8", "97110", "16:40", "17:00"),
        _note("Y8", "A8", "97112", "16:59", "17:30"),
    ]
    write(tmp_path, claims, notes)
    ours, peer = flagged(tmp_path, overlap, ["OVERLAP-PROVIDER"])
    expected = {"OVERLAP-PROVIDER": {"X1|1", "Y1|1", "X6|1", "W7|1", "V7|1", "X8|1", "Y8|1"}}
    assert ours == expected
    assert peer == expected


def test_overlap_day_cap(tmp_path: Path) -> None:
    at = [f"{h:02d}:00" for h in range(7, 19)]
    claims: list[Row] = []
    notes: list[Row] = []

    def visit(pid: str, npi: str, payer: str, units: int, start: str | None) -> None:
        """A line of `units` (at most 4) of 97110 and, at `start`, its note within the hour."""
        claims.append(_line(pid, npi, payer, "97110", "GP", units))
        if start is not None:
            notes.append(_note(pid, npi, "97110", start, f"{start[:2]}:{units * 15 - 1:02d}"))

    # P1: 32 units of 15 minutes, exactly the 480-minute cap, is not reported; an evaluation
    # (untimed) and a documented service nobody billed add no billed minutes
    for i in range(8):
        visit(f"P1-{i}", "P1", "medicare", 4, at[i])
    claims.append(_line("P1-e", "P1", "medicare", "97161", "GP"))
    notes.append(_note("P1-u", "P1", "97110", "17:00", "17:45"))
    # P2: 495 minutes; the line without a note comes last whatever its claim id, so it alone
    # is beyond the cap
    for i in range(8):
        visit(f"P2-{i}", "P2", "medicare", 4, at[i])
    visit("P2-", "P2", "medicare", 1, None)
    # P3: every payer's minutes count toward the day; the Medicaid line reaches 480 exactly,
    # the commercial one after it passes the cap and so does the last
    for i in range(7):
        visit(f"P3-{i}", "P3", "medicare", 4, at[i])
    visit("P3-a", "P3", "medicaid", 4, at[7])
    visit("P3-b", "P3", "commercial", 2, at[8])
    visit("P3-c", "P3", "medicare", 1, at[9])

    # P4: five dual-eligible hours, each billed to Medicare and to Medicaid, are 300 minutes of
    # the provider's day, not 600; P5: four hours, then five dual-eligible ones: the ninth
    # passes 480, and both its claims are reported
    def dual(pid: str, npi: str, start: str) -> None:
        for payer, suffix in (("medicare", "a"), ("medicaid", "b")):
            claims.append((f"{pid}{suffix}", 1, pid, npi, payer, D, "97110", "GP", 4))
        notes.append(_note(pid, npi, "97110", start, f"{start[:2]}:59"))

    for i in range(5):
        dual(f"P4-{i}", "P4", at[i])
    for i in range(4):
        visit(f"P5-{i}", "P5", "medicare", 4, at[i])
    for i in range(4, 9):
        dual(f"P5-{i}", "P5", at[i])
    write(tmp_path, claims, notes)
    ours, peer = flagged(tmp_path, overlap, ["OVERLAP-DAY-CAP"])
    expected = {"OVERLAP-DAY-CAP": {"P2-|1", "P3-b|1", "P3-c|1", "P5-8a|1", "P5-8b|1"}}
    assert ours == expected
    assert peer == expected
