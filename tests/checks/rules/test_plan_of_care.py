"""Truth tables of the plan-of-care rules (checks/rules/plan_of_care.py): POC-MISSING, POC-EXPIRED,
POC-UNSIGNED."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.rulekit import Case, check_case, claim, make_data, plan, run_rule

S5 = "billing-rules.md §5 (Pub. 100-02 ch. 15 §220.1)"
SAME_DISC = "billing-rules.md §5 'a PT may not treat under an OT's plan'"
EVAL = "billing-rules.md §5 'the evaluation that establishes the plan is not itself under a plan'"
BH = "billing-rules.md §5 Medicaid behavioral health needs a current treatment plan"
CERT90 = "Pub. 100-02 ch. 15 §220.1.2: plan duration or 90 calendar days, whichever is less"
SIGN30 = "Pub. 100-02 ch. 15 §220.1.3: certified within 30 days after the first treatment"
LATE = "billing-rules.md §5 'delayed certification ... report them, do not silently accept'"
M, X, U = "POC-MISSING", "POC-EXPIRED", "POC-UNSIGNED"
L1 = ("C1", 1)


def _on(date: str, **kw: Any) -> list[dict[str, Any]]:
    """One 97110 PT line of P1 on `date`."""
    return [claim(date=date, **kw)]


# fmt: off
CASES: list[Case] = [
    # --- POC-MISSING --------------------------------------------------------------------------
    Case(M, "no plan on file", "flag", claims=[claim()], expected={L1: None}, source=S5),
    # found in review: a therapy line without GP/GO/GN is not covered by a BH treatment plan
    Case(M, "unmodified 97110 and only a BH plan", "flag", profile="medicaid",
         claims=[claim(mods=None, payer="medicaid")], plans=[plan(discipline="BH")],
         expected={L1: None}, source=S5),
    Case(M, "unmodified 97110 under a PT plan", "blank", profile="medicaid",
         claims=[claim(mods=None, payer="medicaid")], plans=[plan(discipline="PT")],
         source=S5),
    Case(M, "PT line under an OT plan", "flag", claims=[claim()],
         plans=[plan(discipline="OT")], expected={L1: None}, source=SAME_DISC),
    Case(M, "OT modifier GO under a PT plan", "flag", claims=[claim(mods="GO")],
         plans=[plan()], expected={L1: None}, source=SAME_DISC),
    Case(M, "another patient's plan does not count", "flag", claims=[claim()],
         plans=[plan(patient="P2")], expected={L1: None}, source=S5),
    Case(M, "H2032 without a treatment plan (Medicaid)", "flag", profile="medicaid",
         claims=[claim(code="H2032", mods=None, payer="medicaid")], expected={L1: None},
         source=BH),
    Case(M, "plan of the same discipline", "clean", claims=[claim()], plans=[plan()], source=S5),
    Case(M, "evaluation without a plan is exempt", "clean",
         claims=[claim(code="97161", mods=None)], source=EVAL),
    Case(M, "a line with 0 units is not reported", "clean", claims=[claim(units=0)], source=S5),
    Case(M, "H2032 under a BH treatment plan", "clean", profile="medicaid",
         claims=[claim(code="H2032", mods=None, payer="medicaid")],
         plans=[plan(discipline="BH")], source=BH),
    Case(M, "blank plan discipline matches any line", "blank", claims=[claim()],
         plans=[plan(discipline=None)], source=SAME_DISC),
    Case(M, "blank modifiers and no default discipline match any plan", "blank",
         claims=[claim(mods=None)], plans=[plan(discipline="OT")], source=SAME_DISC),
    Case(M, "blank signed date is not this rule's business", "blank", claims=[claim()],
         plans=[plan(signed=None)], source=S5),
    Case(M, "plan starting on the date of service", "boundary", claims=_on("2026-02-01"),
         plans=[plan()], source=S5),
    Case(M, "plan starting the day after", "boundary", claims=_on("2026-01-31"),
         plans=[plan()], expected={L1: None}, source=S5),
    # --- POC-EXPIRED --------------------------------------------------------------------------
    Case(X, "plan ended the day before the service", "flag", claims=_on("2026-05-01"),
         plans=[plan()], expected={L1: None}, source=CERT90),
    Case(X, "only the OT plan is current", "flag", claims=_on("2026-05-15"),
         plans=[plan(), plan("POC2", discipline="OT", start="2026-05-01", end="2026-06-30")],
         expected={L1: None}, source=SAME_DISC),
    Case(X, "plan covers the date", "clean", claims=[claim()], plans=[plan()], source=CERT90),
    Case(X, "recertification covers the date", "clean", claims=_on("2026-05-15"),
         plans=[plan(), plan("POC2", start="2026-05-01", end="2026-07-29")], source=CERT90),
    Case(X, "no plan at all is POC-MISSING's finding", "clean", claims=[claim()], source=S5),
    Case(X, "evaluation after the plan ended is exempt", "clean",
         claims=_on("2026-06-01", code="97164", mods=None), plans=[plan()], source=EVAL),
    Case(X, "blank plan discipline, plan expired", "blank", claims=_on("2026-05-01"),
         plans=[plan(discipline=None)], expected={L1: None}, source=CERT90),
    Case(X, "blank signed date, plan current", "blank", claims=[claim()],
         plans=[plan(signed=None)], source=CERT90),
    Case(X, "plan ends on the date of service", "boundary", claims=_on("2026-04-30"),
         plans=[plan()], source=CERT90),
    Case(X, "day 90 of a longer plan (Jan 1 to Mar 31)", "boundary", claims=_on("2026-03-31"),
         plans=[plan(start="2026-01-01", end="2026-06-30")], source=CERT90),
    Case(X, "day 91 of a longer plan without recertification", "boundary",
         claims=_on("2026-04-01"), plans=[plan(start="2026-01-01", end="2026-06-30")],
         expected={L1: None}, source=CERT90),
    Case(X, "day 91 with a state cadence of 120 days", "boundary", claims=_on("2026-04-01"),
         plans=[plan(start="2026-01-01", end="2026-06-30")], params={"max_cert_days": 120},
         source="billing-rules.md §5 (review cadence is a profile parameter)"),
    # --- POC-UNSIGNED -------------------------------------------------------------------------
    Case(U, "signed 31 days after the first treatment: late", "flag",
         claims=[claim()], plans=[plan(signed="2026-04-02")], expected={L1: None},
         severity={L1: "warning"}, source=LATE),
    Case(U, "late severity is a parameter", "flag", claims=[claim()],
         plans=[plan(signed="2026-04-02")], params={"late_severity": "error"},
         expected={L1: None}, severity={L1: "error"}, source=LATE),
    Case(U, "first treatment is the evaluation, so a signature 30 days after the treatment "
         "is late", "flag",
         claims=[claim("C0", 1, date="2026-02-01", code="97161", mods=None), claim()],
         plans=[plan(signed="2026-04-01")], expected={L1: None}, severity={L1: "warning"},
         source=SIGN30),
    Case(U, "signed before the first treatment", "clean", claims=[claim()], plans=[plan()],
         source=SIGN30),
    Case(U, "one covering plan signed in time is enough", "clean", claims=[claim()],
         plans=[plan(signed=None), plan("POC2", start="2026-03-01", signed="2026-03-02")],
         source=SIGN30),
    Case(U, "plan ended: POC-EXPIRED's finding, not this rule's", "clean",
         claims=_on("2026-05-01"), plans=[plan(signed=None)], source=SIGN30),
    Case(U, "beyond 90 days but inside the plan: not this rule's business", "clean",
         claims=_on("2026-06-15"), plans=[plan(start="2026-02-01", end="2026-07-31")],
         source=CERT90),
    Case(U, "blank signed date: not certified", "blank", claims=[claim()],
         plans=[plan(signed=None)], expected={L1: None}, source=SIGN30),
    Case(U, "blank plan discipline, signed late", "blank", claims=[claim()],
         plans=[plan(discipline=None, signed="2026-04-15")], expected={L1: None},
         severity={L1: "warning"}, source=LATE),
    Case(U, "one plan unsigned, the other late: reported as late", "blank", claims=[claim()],
         plans=[plan(signed=None), plan("POC2", start="2026-03-01", signed="2026-04-10")],
         expected={L1: None}, severity={L1: "warning"}, source=LATE),
    Case(U, "signed 30 days after the first treatment", "boundary", claims=[claim()],
         plans=[plan(signed="2026-04-01")], source=SIGN30),
    Case(U, "signed 31 days after an evaluation that was the first treatment", "boundary",
         claims=[claim("C0", 1, date="2026-02-01", code="97161", mods=None), claim()],
         plans=[plan(signed="2026-03-04")], expected={L1: None}, severity={L1: "warning"},
         source=SIGN30),
    Case(U, "signed 30 days after an evaluation that was the first treatment", "boundary",
         claims=[claim("C0", 1, date="2026-02-01", code="97161", mods=None), claim()],
         plans=[plan(signed="2026-03-03")], source=SIGN30),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_unsigned_leaves_severity_to_the_profile() -> None:
    """An unsigned plan's finding carries a null severity: the engine fills in the profile's
    severity for POC-UNSIGNED (checks/engine.py run_rules)."""
    out = run_rule(U, make_data([claim()], plans=[plan(signed=None)]))
    assert out["severity"].to_list() == [None]
    assert "signed" in out["message"][0]
    assert (
        out["evidence"][0]
        == "plans=POC1 (PT, 2026-02-01..2026-04-30, unsigned) first treatment 2026-03-02"
    )


def test_late_message_counts_days() -> None:
    out = run_rule(U, make_data([claim()], plans=[plan(signed="2026-04-05")]))
    assert "34 days after" in out["message"][0] and "4 days later" in out["message"][0]


def test_expired_and_missing_evidence() -> None:
    data = make_data(_on("2026-04-01"), plans=[plan(start="2026-01-01", end="2026-06-30")])
    assert run_rule(X, data)["evidence"][0] == (
        "plans=POC1 (PT, 2026-01-01..2026-06-30, signed 2026-02-03) certified through 2026-03-31"
    )
    data = make_data([claim(mods="GO")], plans=[plan()])
    assert run_rule(M, data)["evidence"][0] == (
        "plans=POC1 (PT, 2026-02-01..2026-04-30, signed 2026-02-03); line discipline OT"
    )
    assert run_rule(M, make_data([claim()]))["evidence"][0] == (
        "plans=none on file; line discipline PT"
    )
