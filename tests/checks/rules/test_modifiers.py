"""Truth table of the modifier rule (checks/rules/modifiers.py): MOD-THERAPY-MISSING."""

from __future__ import annotations

import pytest

from tests.support.rulekit import NPI_A, NPI_B, Case, check_case, claim, provider

S20_1 = "CMS Pub. 100-04 Ch. 5 §20.1: always-therapy codes carry GP, GO or GN on every line"
PLAN = (
    "CMS Pub. 100-04 Ch. 5 §20.1 (GP/GO/GN name the plan's discipline); Pub. 100-02 Ch. 15 "
    "§220.1 (services under a plan of their own discipline)"
)
L1, L2 = ("C1", 1), ("C1", 2)
R = "MOD-THERAPY-MISSING"
OT = provider(NPI_B, "OT", discipline="OT")
PT = provider(NPI_A, "PT", discipline="PT")

# fmt: off
CASES = [
    Case(R, "97110 without any modifier", "flag", source=S20_1,
         claims=[claim(mods=None)], expected={L1: None}),
    Case(R, "97110 with 59 only", "flag", source=S20_1,
         claims=[claim(mods="59")], expected={L1: None}),
    Case(R, "97110 with GP", "clean", source=S20_1, claims=[claim(mods="GP")]),
    Case(R, "97140 with GO and 59", "clean", source=S20_1, claims=[claim(code="97140",
         mods="59:GO")]),
    Case(R, "SLP 92507 with GN", "clean", source=S20_1, claims=[claim(code="92507", mods="GN")]),
    Case(R, "evaluation 97161 without modifier, though its code names PT", "boundary",
         source=S20_1, claims=[claim(code="97161", mods=None)], expected={L1: None}),
    Case(R, "evaluation 97165 with GO", "clean", source=S20_1,
         claims=[claim(code="97165", mods="GO")]),
    Case(R, "behavioral-health H2014 is no therapy code", "boundary", source=S20_1,
         claims=[claim(code="H2014", mods=None)]),
    Case(R, "zero-unit line claims nothing", "boundary", source=S20_1,
         claims=[claim(mods=None, units=0)]),
    Case(R, "GP line rendered by an OT", "flag", source=PLAN, providers=[OT, PT],
         claims=[claim(mods="GP", npi=NPI_B), claim(line=2, mods="GP")], expected={L1: None}),
    Case(R, "GO line rendered by an OT", "clean", source=PLAN, providers=[OT],
         claims=[claim(mods="GO", npi=NPI_B)]),
    Case(R, "GP line by a PTA is PT", "clean", source=PLAN,
         providers=[provider(NPI_B, "PTA", discipline="PT")], claims=[claim(mods="GP:CQ",
         npi=NPI_B)]),
    Case(R, "provider of blank discipline", "blank", source=PLAN,
         providers=[provider(NPI_B, "other", discipline=None)],
         claims=[claim(mods="GP", npi=NPI_B)]),
    Case(R, "no providers export: the modifier alone is judged", "blank", source=S20_1,
         claims=[claim(mods="GP", npi=NPI_B), claim(line=2, mods=None, paid=None)],
         expected={L2: None}),
    Case(R, "discipline check off in the profile", "boundary", source=PLAN, providers=[OT],
         params={"check_provider_discipline": False}, claims=[claim(mods="GP", npi=NPI_B)]),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_message_names_the_provider_and_modifier() -> None:
    out = check_case(CASES[9])
    assert "GP" in out["message"][0] and "GO" in out["message"][0] and "OT" in out["message"][0]
