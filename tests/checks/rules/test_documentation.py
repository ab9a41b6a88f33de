"""Truth tables of the documentation rule (checks/rules/documentation.py): DOC-NO-NOTE."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from schemas.contract import npi_check_digit
from tests.support.rulekit import (
    NPI_B,
    Case,
    check_case,
    claim,
    make_data,
    note,
    run_rule,
)

S3 = "CMS Pub. 100-02 Ch. 15 §220.3 (documentation of each treatment: no note, no support)"
MATCH = "checks/base.py matching: patient, date, code, not provider"
DISC = (
    "CMS Pub. 100-04 Ch. 5 §20.1-20.2: GP/GO/GN name the discipline, minutes count per "
    "discipline; a note's discipline column, else its clinician's line"
)
NPI_C = "111222333" + str(npi_check_digit("111222333"))
L1 = ("C1", 1)


# fmt: off
NO_NOTE = [
    Case("DOC-NO-NOTE", "line without any note", "flag", source=S3,
         claims=[claim(units=2)], expected={L1: None}),
    Case("DOC-NO-NOTE", "note of the same patient, date and code", "clean", source=S3,
         claims=[claim()], notes=[note()]),
    Case("DOC-NO-NOTE", "note by another clinician still documents it", "clean", source=MATCH,
         claims=[claim()], notes=[note(npi=NPI_B)]),
    Case("DOC-NO-NOTE", "note for another code only", "flag", source=MATCH,
         claims=[claim(code="97110")], notes=[note(code="97140")], expected={L1: None}),
    Case("DOC-NO-NOTE", "note for another patient only", "flag", source=MATCH,
         claims=[claim()], notes=[note(patient="P2")], expected={L1: None}),
    Case("DOC-NO-NOTE", "note one day earlier", "boundary", source=MATCH,
         claims=[claim(date="2026-03-02")], notes=[note(date="2026-03-01")], expected={L1: None}),
    Case("DOC-NO-NOTE", "zero-unit line bills nothing", "boundary", source=S3,
         claims=[claim(units=0)]),
    Case("DOC-NO-NOTE", "blank modifiers and paid amount", "blank", source=S3,
         claims=[claim(mods=None, paid=None)], expected={L1: None}),
    Case("DOC-NO-NOTE", "note with blank times and minutes still exists", "blank", source=S3,
         claims=[claim()], notes=[note(start=None, end=None, minutes=None)]),
    # a PT line is documented by PT notes (Pub. 100-02 Ch. 15 §220.1: services under a plan of
    # their own discipline); a note names its discipline in its optional column
    Case("DOC-NO-NOTE", "a PT line with only an OT note", "flag", source=DISC,
         claims=[claim(mods="GP")], notes=[note(discipline="OT")], expected={L1: None}),
    Case("DOC-NO-NOTE", "PT and OT lines, each with its clinician's note", "clean", source=DISC,
         claims=[claim("C1", mods="GP"), claim("C2", mods="GO", npi=NPI_B)],
         notes=[note("N1"), note("N2", npi=NPI_B)]),
    Case("DOC-NO-NOTE", "PT and OT lines, one note of unknown discipline", "blank", source=DISC,
         claims=[claim("C1", mods="GP"), claim("C2", mods="GO", npi=NPI_B)],
         notes=[note("N1", npi=NPI_C)]),
    Case("DOC-NO-NOTE", "PT and OT lines, the OT note only", "flag", source=DISC,
         claims=[claim("C1", mods="GP"), claim("C2", mods="GO", npi=NPI_B)],
         notes=[note("N2", npi=NPI_B)], expected={L1: None}),
    Case("DOC-NO-NOTE", "a line without modifier takes a note of any discipline", "blank",
         source=DISC, claims=[claim(mods=None)], notes=[note(discipline="OT")]),
    Case("DOC-NO-NOTE", "untimed H0031 without a note", "flag", source=S3, profile="medicaid",
         claims=[claim(code="H0031", mods=None, payer="medicaid")], expected={L1: None}),
]
# fmt: on

CASES: list[Case] = NO_NOTE


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_texts_name_no_patient() -> None:
    """Messages are one plain sentence and never carry the patient id."""
    secret = "PT-SECRET-77"
    claims = [
        claim("C1", 1, patient=secret, units=3),
        claim("C1", 2, patient=secret, code="97140"),
        claim("C1", 3, patient=secret, code="97530"),
        claim("C1", 4, patient=secret, code="97164", units=2),
    ]
    notes = [
        note("N1", patient=secret, start=None, minutes=10),
        note("N2", patient=secret, code="97140", start="10:00", end="09:00", minutes=None),
    ]
    data = make_data(claims, notes)
    rules = [
        "DOC-NO-NOTE",
        "TIME-MISSING",
        "TIME-INVALID",
        "UNITS-8MIN",
        "UNITS-UNTIMED",
        "UNITS-MUE",
    ]
    seen = 0
    for rule_id in rules:
        for row in run_rule(rule_id, data).to_dicts():
            seen += 1
            assert secret not in row["message"] + row["evidence"], rule_id
            assert row["message"].endswith(".") and "\n" not in row["message"], rule_id
            assert row["message"].count(". ") == 0, (rule_id, row["message"])
    assert seen >= len(rules)


@pytest.mark.parametrize("rule_id", ["DOC-NO-NOTE", "TIME-MISSING", "TIME-INVALID"])
def test_out_of_scope_lines_are_not_flagged(rule_id: str) -> None:
    claims = [claim("C1", 1), claim("C1", 2, code="97140"), claim("C1", 3, code="97530")]
    data = make_data(claims, [note(start=None), note(code="97140", end="08:00")])
    assert run_rule(rule_id, data).height == 1
    data = dataclasses.replace(data, lines=data.lines.with_columns(in_scope=pl.lit(False)))
    assert run_rule(rule_id, data).height == 0
