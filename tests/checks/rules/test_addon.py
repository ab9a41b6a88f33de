"""Truth table of the add-on rule (checks/rules/addon.py): ADDON-NO-PRIMARY."""

from __future__ import annotations

import pytest

from checks.engine import NOT_APPLICABLE
from checks.reference import Reference
from tests.support.rulekit import NPI_B, Case, check_case, claim

ADDON = "CPT add-on convention: +97130 is reported with 97129 the same day; CMS NCCI add-on edits"
PSY = (
    "CPT psychotherapy with E/M: +90833/+90836/+90838 code first the E/M service "
    "(99202-99255, 99281-99285, 99304-99316, 99341-99350); CMS NCCI add-on code edits"
)
MORE = (
    "CPT add-on codes: +90785 with 90791/90792/90832/90834/90837/90853, +90840 with 90839, "
    "+97546 with 97545, +92608 with 92607, +92618 with 92605; CMS NCCI add-on code edits"
)
NCCI = (
    "CMS NCCI Policy Manual Ch. 1 (Type I add-on edits): the primary procedure is reported by "
    "the same practitioner for the same patient and date; CPT add-on convention"
)
L1, L2 = ("C1", 1), ("C1", 2)
R = "ADDON-NO-PRIMARY"


def cog(code: str, line: int = 1, **kw: object) -> dict:
    return claim("C1", line, code=code, **kw)  # type: ignore[arg-type]


# fmt: off
CASES = [
    Case(R, "97130 alone", "flag", source=ADDON, claims=[cog("97130", units=2)],
         expected={L1: None}),
    Case(R, "97130 with 97129 the same day", "clean", source=ADDON,
         claims=[cog("97129"), cog("97130", 2, units=2)]),
    Case(R, "97129 on another claim of the day, another provider", "flag", source=NCCI,
         claims=[cog("97130"), claim("C2", code="97129", npi=NPI_B)], expected={L1: None}),
    Case(R, "97129 on another claim of the day, same provider", "clean", source=NCCI,
         claims=[cog("97130"), claim("C2", code="97129")]),
    Case(R, "97129 the day before", "boundary", source=ADDON,
         claims=[cog("97129", date="2026-03-01"), cog("97130", 2)], expected={L2: None}),
    Case(R, "97129 for another patient", "flag", source=ADDON,
         claims=[cog("97129", patient="P2"), cog("97130", 2)], expected={L2: None}),
    Case(R, "97129 billed with zero units bills nothing", "boundary", source=ADDON,
         claims=[cog("97129", units=0), cog("97130", 2)], expected={L2: None}),
    Case(R, "97130 with zero units claims nothing", "boundary", source=ADDON,
         claims=[cog("97130", units=0)]),
    Case(R, "97129 alone is a primary, not an add-on", "clean", source=ADDON,
         claims=[cog("97129")]),
    Case(R, "blank modifiers and paid amount", "blank", source=ADDON,
         claims=[cog("97130", mods=None, paid=None)], expected={L1: None}),
    Case(R, "90833 without an E/M visit", "flag", source=PSY, profile="medicaid",
         claims=[cog("90833", payer="medicaid", mods=None)], expected={L1: None}),
    Case(R, "90836 with 99214", "clean", source=PSY, profile="medicaid",
         claims=[cog("99214", payer="medicaid", mods=None),
                 cog("90836", 2, payer="medicaid", mods=None)]),
    Case(R, "90838 with psychotherapy 90837 is not an E/M", "flag", source=PSY,
         profile="commercial",
         claims=[cog("90837", payer="commercial", mods=None),
                 cog("90838", 2, payer="commercial", mods=None)], expected={L2: None}),
    Case(R, "90833 with 99350, the range's last home visit code", "boundary", source=PSY,
         claims=[cog("99350", mods=None), cog("90833", 2, mods=None)]),
    Case(R, "90836 with an emergency department visit 99283", "clean", source=PSY,
         claims=[cog("99283", mods=None), cog("90836", 2, mods=None)]),
    Case(R, "90838 with an office consultation 99245", "boundary", source=PSY,
         claims=[cog("99245", mods=None), cog("90838", 2, mods=None)]),
    Case(R, "90833 with an inpatient consultation 99252", "boundary", source=PSY,
         claims=[cog("99252", mods=None), cog("90833", 2, mods=None)]),
    Case(R, "90785 interactive complexity alone", "flag", source=MORE,
         claims=[cog("90785", mods=None)], expected={L1: None}),
    Case(R, "90785 with 90834", "clean", source=MORE,
         claims=[cog("90834", mods=None), cog("90785", 2, mods=None)]),
    Case(R, "90785 with group psychotherapy 90853", "clean", source=MORE,
         claims=[cog("90853", mods=None), cog("90785", 2, mods=None)]),
    Case(R, "90840 with crisis psychotherapy 90839", "clean", source=MORE,
         claims=[cog("90839", mods=None), cog("90840", 2, mods=None)]),
    Case(R, "90840 with 90837 is not a crisis session", "flag", source=MORE,
         claims=[cog("90837", mods=None), cog("90840", 2, mods=None)], expected={L2: None}),
    Case(R, "97546 without work hardening 97545", "flag", source=MORE,
         claims=[cog("97546")], expected={L1: None}),
    Case(R, "97546 with 97545", "clean", source=MORE,
         claims=[cog("97545"), cog("97546", 2)]),
    Case(R, "92608 with 92607", "clean", source=MORE,
         claims=[cog("92607", mods="GN"), cog("92608", 2, mods="GN")]),
    Case(R, "92618 without 92605", "flag", source=MORE,
         claims=[cog("92618", mods="GN")], expected={L1: None}),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_without_the_addon_table_the_rule_is_not_applicable() -> None:
    """No table, no pairs: the rule says so instead of passing every line."""
    from tests.checks.test_needs import run_with

    runs = run_with([cog("97130")], reference=Reference())
    assert runs[R].status == NOT_APPLICABLE
    assert runs[R].reason == "no addon codes reference table given"


def test_addon_evidence_names_the_primaries() -> None:
    out = check_case(CASES[0])
    assert "97129" in out["evidence"][0] and "97129" in out["message"][0]


def test_therapy_addons_and_their_primaries_are_always_therapy() -> None:
    """CMS's annual therapy code list has both codes of each therapy add-on pair (work
    hardening 97545/97546, device evaluations 92607/92608 and 92605/92618, cognitive 97129/97130):
    MOD-THERAPY-MISSING then wants GP/GO/GN on either line (Pub. 100-04 Ch. 5 §20.1)."""
    import polars as pl

    from data import ADDON_CODES, THERAPY_CODES

    always = set(pl.read_csv(THERAPY_CODES, schema_overrides={"code": pl.String})["code"])
    pairs = pl.read_csv(ADDON_CODES, schema_overrides={"addon": pl.String, "primary": pl.String})
    therapy = pairs.filter(pl.col("addon").str.contains(r"^9(7|260|261)"))
    assert therapy.height >= 4
    for addon, primary in therapy.select("addon", "primary").iter_rows():
        assert addon in always and primary in always, (addon, primary)
