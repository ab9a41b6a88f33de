"""Truth table of the psychotherapy time rule (checks/rules/time.py): TIME-PSYCHOTHERAPY."""

from __future__ import annotations

import pytest

from tests.support.rulekit import Case, check_case, claim, note

CPT = (
    "AMA CPT psychotherapy time rules: 90832 16-37 min, 90834 38-52 min, 90837 53 min or more; "
    "the add-ons 90833, 90836, 90838 the same ranges"
)
R = "TIME-PSYCHOTHERAPY"
L1, L2 = ("C1", 1), ("C2", 1)


def psy(code: str, minutes: int | None, claim_id: str = "C1", **kw: object) -> tuple[dict, dict]:
    c = claim(claim_id, code=code, mods=None, payer="medicaid")
    n = note("N" + claim_id, code=code, minutes=minutes, start=None, end=None, **kw)  # type: ignore[arg-type]
    return c, n


def case(name: str, kind: str, *pairs: tuple[dict, dict], **kw: object) -> Case:
    return Case(R, name, kind, source=CPT, profile="medicaid", claims=[p[0] for p in pairs],
                notes=[p[1] for p in pairs], **kw)  # type: ignore[arg-type]  # fmt: skip


# fmt: off
CASES = [
    case("90834 with 30 minutes", "flag", psy("90834", 30), expected={L1: None}),
    case("90834 with 45 minutes", "clean", psy("90834", 45)),
    case("90832 with 15 minutes", "boundary", psy("90832", 15), expected={L1: None}),
    case("90832 with 16 minutes", "boundary", psy("90832", 16)),
    case("90834 with 38 minutes", "boundary", psy("90834", 38)),
    case("90837 with 52 minutes", "boundary", psy("90837", 52), expected={L1: None}),
    case("90837 with 53 minutes", "boundary", psy("90837", 53)),
    case("90837 with 120 minutes has no upper limit", "clean", psy("90837", 120)),
    case("add-on 90836 with 37 minutes", "flag", psy("90836", 37), expected={L1: None}),
    case("90832 with 40 minutes: a longer code fits", "boundary", psy("90832", 40),
         expected={L1: 0}, severity={L1: "info"}),
    case("a note without minutes beside one with", "blank", psy("90834", None),
         psy("90837", 60, "C2"), expected={L1: None}),
    case("no note of the export has minutes", "blank", psy("90834", None),
         not_applicable="the notes have no minutes values"),
    case("other codes are not judged", "clean", psy("H2014", 5)),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_evidence_names_the_code_the_minutes_fit() -> None:
    out = check_case(CASES[0])
    assert "the minutes fit=90832" in out["evidence"][0]
    assert "38-52" in out["message"][0]
    above = check_case(CASES[9])
    assert "fit=90834" in above["evidence"][0]
    assert "53 or more" in check_case(CASES[5])["message"][0]


def test_cites_the_cpt_time_rules_not_the_therapy_manual() -> None:
    """Psychotherapy time ranges are CPT's; Pub. 100-02 Ch. 15 §220.3 governs PT/OT/SLP notes."""
    from checks.declare import RULES

    citation = RULES[R].citation
    assert "CPT (2025) psychotherapy time rules" in citation and "220.3" not in citation
