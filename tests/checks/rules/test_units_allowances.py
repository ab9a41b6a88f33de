"""Truth tables of the unit allowances per discipline and provider (checks/rules/units.py):
UNITS-UNTIMED once per patient, day, code, discipline and rendering provider (CMS Transmittal
1019), UNITS-MUE per patient, day, code and rendering provider (CMS NCCI MUE definition)."""

from __future__ import annotations

import pytest

from tests.support import rulekit
from tests.support.rulekit import NPI_B, Case, check_case, claim, make_data, run_rule

L1, L2 = ("C1", 1), ("C1", 2)

# Untimed codes per discipline and provider; MUEs per provider.
T1019 = (
    "CMS Pub. 100-04 Transmittal 1019 (2006): untimed codes billed no more than once per "
    "provider, per discipline, per date of service, per patient"
)
S8 = "CMS Transmittal 1019 (untimed codes once per provider, discipline, date, patient)"
MUE_DEF = (
    "CMS NCCI MUEs: the most units of a HCPCS/CPT code reported by the same provider for the "
    "same beneficiary on the same date of service"
)


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
         source="State Medicaid manuals: H2032 per session",
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
