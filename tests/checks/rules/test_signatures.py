"""Truth table of the signature rule (checks/rules/documentation.py): DOC-NOTE-UNSIGNED."""

from __future__ import annotations

import pytest

from tests.support.rulekit import NPI_B, Case, check_case, claim, note

SIG = (
    "CMS Pub. 100-08 Ch. 3 §3.3.2.4: services are authenticated by their author; unsigned "
    "entries may be disregarded"
)
ATTEST = (
    SIG + "; a signature attestation may cure a missing signature where the service is otherwise "
    "authenticated"
)
LATE = SIG + "; timeliness is the practice's or payer's policy (profile: 7 days)"
R = "DOC-NOTE-UNSIGNED"
L1, L2 = ("C1", 1), ("C2", 1)
SAME_DAY = "2026-03-02 17:30"

# fmt: off
CASES = [
    Case(R, "the line's note is unsigned", "flag", source=SIG,
         claims=[claim(), claim("C2", code="97140")],
         notes=[note("N1"), note("N2", code="97140", signed=SAME_DAY)],
         expected={L1: None}, severity={L1: "error"}),
    Case(R, "signed the same day", "clean", source=SIG,
         claims=[claim()], notes=[note(signed=SAME_DAY)]),
    Case(R, "signed 7 days later", "boundary", source=LATE,
         claims=[claim()], notes=[note(signed="2026-03-09 23:59")]),
    Case(R, "signed 8 days later", "boundary", source=LATE,
         claims=[claim(units=2)], notes=[note(signed="2026-03-10 08:00")],
         expected={L1: 0}, severity={L1: "warning"}),
    Case(R, "one of two note rows unsigned, the other signed: warning", "boundary",
         source=ATTEST, claims=[claim(units=2)],
         notes=[note("N1", signed=SAME_DAY), note("N2", start="09:15", end="09:30")],
         expected={L1: 0}, severity={L1: "warning"}),
    Case(R, "two note rows, both unsigned", "flag", source=SIG,
         claims=[claim(units=2), claim("C2", code="97140")],
         notes=[note("N1"), note("N2", start="09:15", end="09:30"),
                note("N3", code="97140", signed=SAME_DAY)],
         expected={L1: None}, severity={L1: "error"}),
    Case(R, "unsigned draft beside a late-signed note: warning", "boundary", source=ATTEST,
         claims=[claim(units=2)],
         notes=[note("N1", signed="2026-03-20 08:00"), note("N2", start="09:15", end="09:30")],
         expected={L1: 0}, severity={L1: "warning"}),
    Case(R, "signed note of another discipline does not cure the unsigned one", "flag",
         source=SIG, claims=[claim(mods="GP")],
         notes=[note("N1", discipline="PT"), note("N2", npi=NPI_B, discipline="OT",
                                                  signed=SAME_DAY)],
         expected={L1: None}, severity={L1: "error"}),
    Case(R, "an unsigned note of another discipline does not document the line", "clean",
         source=SIG, claims=[claim(mods="GP"), claim("C2", mods="GO", npi=NPI_B)],
         notes=[note("N1", discipline="PT", signed=SAME_DAY),
                note("N2", npi=NPI_B, discipline="OT", signed=SAME_DAY),
                note("N3", npi=NPI_B, discipline="SLP")]),
    Case(R, "zero-unit line claims nothing", "boundary", source=SIG,
         claims=[claim(units=0), claim("C2", code="97140")],
         notes=[note("N1"), note("N2", code="97140", signed=SAME_DAY)]),
    Case(R, "line without a note is DOC-NO-NOTE's", "clean", source=SIG,
         claims=[claim(code="97140")], notes=[note(signed=SAME_DAY)]),
    Case(R, "no note of the export has a signature date", "blank", source=SIG,
         claims=[claim()], notes=[note()],
         not_applicable="the notes have no signed_at values"),
    Case(R, "late made an error by the profile", "flag", source=LATE,
         params={"late_severity": "error"}, claims=[claim()],
         notes=[note(signed="2026-04-30 08:00")], expected={L1: None}, severity={L1: "error"}),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_evidence_names_the_notes() -> None:
    out = check_case(CASES[3])
    assert out["evidence"][0].startswith("unsigned notes=none; late notes=N1; most days late=8")


def test_evidence_says_an_attestation_may_cure_it() -> None:
    out = check_case(next(c for c in CASES if c.name.startswith("one of two note rows")))
    assert "signature attestation may cure" in out["evidence"][0]
    assert "signed note documents it" in out["message"][0]
