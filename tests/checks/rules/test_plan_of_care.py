"""Truth tables of the plan-of-care rules (checks/rules/plan_of_care.py): POC-MISSING, POC-EXPIRED,
POC-UNSIGNED."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.support.rulekit import Case, check_case, claim, flagged, make_data, note, plan, run_rule

S5 = "CMS Pub. 100-02 Ch. 15 §220.1"
SAME_DISC = "CMS Pub. 100-02 Ch. 15 §220.1.2 (a plan of the discipline furnishing the service)"
EVAL = "CMS Pub. 100-02 Ch. 15 §220.1 (the evaluation establishing the plan is not under it)"
BH = "State Medicaid manuals: behavioral-health services need a current treatment plan"
CERT90 = (
    "Pub. 100-02 ch. 15 §220.1.3 B: the plan's duration or 90 calendar days from the date "
    "of the initial treatment, whichever is less"
)
EVAL_TX = (
    "Pub. 100-02 ch. 15 §220.1.3 B: 'The initial treatment includes the evaluation that "
    "resulted in the plan'"
)
RECERT = (
    "Pub. 100-02 ch. 15 §220.1.3 C: treatment beyond the duration certified requires that "
    "the plan be recertified"
)
DAY90 = (
    "Pub. 100-02 ch. 15 §220 definitions: a certification interval consists of 90 calendar "
    "days or less (the initial treatment is day 1)"
)
SIGN30 = (
    "Pub. 100-02 ch. 15 §220.1.3 B: certification dated in the 30 days following the first "
    "day of treatment (including evaluation)"
)
ORDER = (
    "CY 2025 PFS final rule, 89 Fed. Reg. 97710, 97912-97918 (Pub. 100-02 ch. 15 §220.1.3): "
    "from 1 January 2025 a signed and dated order plus the plan sent to the referring "
    "practitioner within 30 days of the initial treatment meets the initial certification"
)
ORDER_MCD = (
    "CY 2025 PFS final rule is a Medicare Part B rule; Medicaid treatment plans follow state rules"
)
LATE = "CMS Pub. 100-02 Ch. 15 §220.1.3 D (delayed certification needs a reason)"
M, X, U = "POC-MISSING", "POC-EXPIRED", "POC-UNSIGNED"
L1 = ("C1", 1)


def _on(date: str, **kw: Any) -> list[dict[str, Any]]:
    """One 97110 PT line of P1 on `date`."""
    return [claim(date=date, **kw)]


def _eval(date: str) -> dict[str, Any]:
    """P1's PT evaluation (97161, claim C0) on `date`: the first treatment under the plan."""
    return claim("C0", 1, date=date, code="97161", mods=None)


def _long(**kw: Any) -> dict[str, Any]:
    """A PT plan certified 1 January to 30 June: longer than 90 days."""
    return plan(start="2026-01-01", end="2026-06-30", **kw)


L2 = ("C2", 1)


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
    Case(X, "day 90 from the evaluation is covered", "boundary",
         claims=[_eval("2026-01-01"), claim(date="2026-03-31")], plans=[_long()], source=DAY90),
    Case(X, "day 90 clean and day 91 flagged without recertification", "boundary",
         claims=[_eval("2026-01-01"), claim(date="2026-04-01"), claim("C2", date="2026-03-31")],
         plans=[_long()], expected={L1: None}, source=DAY90),
    Case(X, "day 91 under a recertification", "clean",
         claims=[_eval("2026-01-01"), claim(date="2026-04-01")],
         plans=[_long(), plan("POC2", start="2026-04-01", end="2026-06-29")], source=RECERT),
    Case(X, "recertification starts a day late: day 91 uncovered", "flag",
         claims=[_eval("2026-01-01"), claim(date="2026-04-01"), claim("C2", date="2026-04-02")],
         plans=[_long(), plan("POC2", start="2026-04-02", end="2026-06-29")],
         expected={L1: None}, source=RECERT),
    Case(X, "plan shorter than 90 days ends first", "flag",
         claims=[_eval("2026-01-01"), claim(date="2026-03-02"), claim("C2", date="2026-02-28")],
         plans=[plan(start="2026-01-01", end="2026-02-28")], expected={L1: None}, source=CERT90),
    Case(X, "first treatment 9 days after cert_start: covered through day 90 from it", "boundary",
         claims=[_eval("2026-01-10"), claim(date="2026-04-09")], plans=[_long()], source=CERT90),
    Case(X, "first treatment 9 days after cert_start: day 91 from it flagged", "boundary",
         claims=[_eval("2026-01-10"), claim(date="2026-04-10")], plans=[_long()],
         expected={L1: None}, source=CERT90),
    Case(X, "the evaluation, not the first 97110, starts the 90 days", "flag",
         claims=[_eval("2026-01-05"), claim("C3", date="2026-01-12"), claim(date="2026-04-05")],
         plans=[_long()], expected={L1: None}, source=EVAL_TX),
    Case(X, "a documented evaluation that was not billed starts the 90 days", "flag",
         claims=[claim(date="2026-04-05")], notes=[note(date="2026-01-05", code="97161")],
         plans=[_long()], expected={L1: None}, source=EVAL_TX),
    Case(X, "an OT service does not start the PT plan's 90 days", "clean",
         claims=[claim("C3", date="2026-01-02", code="97530", mods="GO"), _eval("2026-01-10"),
                 claim(date="2026-04-09")],
         plans=[_long(), plan("POC2", discipline="OT", start="2026-01-01", end="2026-03-31")],
         source=SAME_DISC),
    Case(X, "a note of unknown discipline does not start the 90 days", "blank",
         claims=[_eval("2026-01-10"), claim(date="2026-04-09")],
         notes=[note(date="2026-01-02", code="97110")], plans=[_long()], source=SAME_DISC),
    Case(X, "a service before cert_start does not start the 90 days", "boundary",
         claims=[claim("C3", date="2025-12-31"), claim("C4", date="2026-01-05"),
                 claim(date="2026-04-04")],
         plans=[plan("POC0", start="2025-10-03", end="2025-12-31"), _long()], source=CERT90),
    Case(X, "day 91 with a state cadence of 120 days", "boundary",
         claims=[_eval("2026-01-01"), claim(date="2026-04-01")], plans=[_long()],
         params={"max_cert_days": 120},
         source="State Medicaid manuals: treatment-plan review cadence"),
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
    # --- POC-UNSIGNED: the CY 2025 order path ----------------------------------------------------
    Case(U, "unsigned, order and plan sent 18 days after the first treatment", "clean",
         claims=[claim()], plans=[plan(signed=None, order="2026-02-20", sent="2026-03-20")],
         source=ORDER),
    Case(U, "plan sent 30 days after the first treatment", "boundary", claims=[claim()],
         plans=[plan(signed=None, order="2026-02-20", sent="2026-04-01")], source=ORDER),
    Case(U, "plan sent 31 days after the first treatment", "boundary", claims=[claim()],
         plans=[plan(signed=None, order="2026-02-20", sent="2026-04-02")], expected={L1: None},
         source=ORDER),
    Case(U, "plan sent 30 days after an evaluation that was the first treatment", "boundary",
         claims=[_eval("2026-02-01"), claim()],
         plans=[plan(signed=None, order="2026-01-25", sent="2026-03-03")], source=ORDER),
    Case(U, "plan sent 31 days after an evaluation that was the first treatment", "boundary",
         claims=[_eval("2026-02-01"), claim()],
         plans=[plan(signed=None, order="2026-01-25", sent="2026-03-04")], expected={L1: None},
         source=ORDER),
    Case(U, "order without a sent date", "blank", claims=[claim()],
         plans=[plan(signed=None, order="2026-02-20")], expected={L1: None}, source=ORDER),
    Case(U, "sent date without an order", "blank", claims=[claim()],
         plans=[plan(signed=None, sent="2026-03-10")], expected={L1: None}, source=ORDER),
    Case(U, "order signed after the plan was sent to the 'referring' practitioner", "flag",
         claims=[claim()], plans=[plan(signed=None, order="2026-03-12", sent="2026-03-10")],
         expected={L1: None}, source=ORDER),
    Case(U, "order signed the day the plan was sent", "boundary", claims=[claim()],
         plans=[plan(signed=None, order="2026-03-10", sent="2026-03-10")], source=ORDER),
    Case(U, "late signature, but the order path certifies the plan", "clean", claims=[claim()],
         plans=[plan(signed="2026-04-10", order="2026-02-20", sent="2026-03-10")], source=ORDER),
    Case(U, "late signature and plan sent late: reported as late", "flag", claims=[claim()],
         plans=[plan(signed="2026-04-10", order="2026-02-20", sent="2026-04-05")],
         expected={L1: None}, severity={L1: "warning"}, source=LATE),
    Case(U, "order path: 31 December 2024 is before it, 2 January 2025 after", "boundary",
         claims=[claim(date="2024-12-31"), claim("C2", date="2025-01-02")],
         plans=[plan(start="2024-12-01", end="2025-02-28", signed=None, order="2024-11-25",
                     sent="2024-12-31")],
         expected={L1: None}, source=ORDER),
    Case(U, "the Medicaid profile does not take the order path", "flag", profile="medicaid",
         claims=[claim(payer="medicaid")],
         plans=[plan(signed=None, order="2026-02-20", sent="2026-03-10")], expected={L1: None},
         source=ORDER_MCD),
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
    data = make_data([_eval("2026-01-01"), claim(date="2026-04-01")], plans=[_long()])
    out = run_rule(X, data)
    assert out["evidence"][0] == (
        "plans=POC1 (PT, 2026-01-01..2026-06-30, signed 2026-02-03): first treatment 2026-01-01, "
        "90-day end 2026-03-31, certified through 2026-03-31"
    )
    assert "certified only through 2026-03-31" in out["message"][0]
    data = make_data([claim(mods="GO")], plans=[plan()])
    assert run_rule(M, data)["evidence"][0] == (
        "plans=POC1 (PT, 2026-02-01..2026-04-30, signed 2026-02-03); line discipline OT"
    )
    assert run_rule(M, make_data([claim()]))["evidence"][0] == (
        "plans=none on file; line discipline PT"
    )


def test_order_path_evidence_says_why_it_did_not_certify() -> None:
    data = make_data([claim()], plans=[plan(signed=None, order="2026-02-20", sent="2026-04-02")])
    out = run_rule(U, data)
    assert out["severity"].to_list() == [None]
    assert out["evidence"][0] == (
        "plans=POC1 (PT, 2026-02-01..2026-04-30, unsigned, order signed 2026-02-20, plan sent "
        "2026-04-02) first treatment 2026-03-02 (plan sent 31 days after the first treatment)"
    )
    assert "within 30 days of the first treatment" in out["message"][0]
    data = make_data([claim()], plans=[plan(signed=None, order="2026-02-20")])
    assert run_rule(U, data)["evidence"][0].endswith("(no date the plan was sent)")


def test_plans_without_the_order_columns() -> None:
    """An AuditData whose plans frame lacks the two optional columns (an older caller) reads
    them as null: the unsigned plan is flagged as before."""
    data = make_data([claim()], plans=[plan(signed=None)])
    old = replace(data, plans=data.plans.drop("order_signed_date", "sent_date"))
    assert flagged(run_rule(U, old)) == [L1]
