"""Truth table of the therapy threshold rule (checks/rules/threshold.py): KX-MISSING; and the
beneficiaries past the targeted medical-review threshold."""

from __future__ import annotations

import polars as pl
import pytest

from checks.rules.threshold import beneficiaries_past_review
from tests.support.rulekit import CLAIM_SCHEMA, REFERENCE, Case, check_case, claim, load_profile

S10_3 = (
    "CMS Pub. 100-04 Ch. 5 §10.3: KX on lines past the threshold ($2,480 in 2026, $2,410 in "
    "2025), per beneficiary and calendar year, PT and SLP combined, OT separately"
)
PART = S10_3 + "; only the spending past the threshold needs KX: on the crossing line its part"
YEARS = (
    "CMS Pub. 100-04 Ch. 5 §10.3; CY 2023 and CY 2024 PFS final rules: KX thresholds $2,230 "
    "(2023) and $2,330 (2024); each year's own amount"
)
BASIS = S10_3 + "; allowed amounts count (deductible and coinsurance included)"
R = "KX-MISSING"


def line(n: int, allowed: float | None, **kw: object) -> dict:
    kw.setdefault("date", f"2026-03-{n + 1:02d}")
    return claim("C1", n, allowed=allowed, **kw)  # type: ignore[arg-type]


L1, L2, L3 = ("C1", 1), ("C1", 2), ("C1", 3)

# fmt: off
CASES = [
    Case(R, "the crossing line and the next without KX", "flag", source=PART,
         claims=[line(1, 2000.0), line(2, 600.0), line(3, 50.0)],
         expected={L2: None, L3: None}, risk_share={L2: 0.2, L3: 1.0}),
    Case(R, "a crossing line wholly past the threshold", "boundary", source=PART,
         claims=[line(1, 2480.0), line(2, 100.0)], expected={L2: None}, risk_share={L2: 1.0}),
    Case(R, "the crossing line passes it by a cent", "boundary", source=PART,
         claims=[line(1, 2000.0), line(2, 480.01)], expected={L2: None},
         risk_share={L2: round(0.01 / 480.01, 6)}),
    Case(R, "the crossing line and the next with KX", "clean", source=S10_3,
         claims=[line(1, 2000.0), line(2, 600.0, mods="GP:KX"), line(3, 50.0, mods="KX GP")]),
    Case(R, "KX on the crossing line only", "flag", source=S10_3,
         claims=[line(1, 2000.0), line(2, 600.0, mods="GP:KX"), line(3, 50.0)],
         expected={L3: None}),
    Case(R, "exactly at the threshold is not past it", "boundary", source=S10_3,
         claims=[line(1, 2000.0), line(2, 480.0), line(3, 0.01)], expected={L3: None}),
    Case(R, "PT and OT count apart", "clean", source=S10_3,
         claims=[line(1, 2000.0), line(2, 600.0, mods="GO")]),
    Case(R, "PT and SLP count together", "flag", source=S10_3,
         claims=[line(1, 2000.0), line(2, 600.0, code="92507", mods="GN")],
         expected={L2: None}),
    Case(R, "2025 threshold is $2,410", "boundary", source=S10_3,
         claims=[line(1, 2000.0, date="2025-05-01"), line(2, 420.0, date="2025-05-02")],
         expected={L2: None}),
    Case(R, "2024 threshold is $2,330", "boundary", source=YEARS,
         claims=[line(1, 2000.0, date="2024-05-01"), line(2, 340.0, date="2024-05-02")],
         expected={L2: None}, risk_share={L2: round(10 / 340, 6)}),
    Case(R, "2023 threshold is $2,230", "boundary", source=YEARS,
         claims=[line(1, 2000.0, date="2023-05-01"), line(2, 230.0, date="2023-05-02"),
                 line(3, 10.0, date="2023-05-03")], expected={L3: None}),
    Case(R, "a service year without a table row is not checked", "boundary", source=YEARS,
         claims=[line(1, 2000.0, date="2021-05-01"), line(2, 900.0, date="2021-05-02")]),
    Case(R, "two calendar years are two totals", "clean", source=S10_3,
         claims=[line(1, 2000.0, date="2025-12-30"), line(2, 600.0, date="2026-01-02")]),
    Case(R, "date order, not claim order", "boundary", source=S10_3,
         claims=[line(1, 600.0, date="2026-04-01"), line(2, 2000.0, date="2026-03-01")],
         expected={L1: None}),
    Case(R, "another beneficiary's spending", "clean", source=S10_3,
         claims=[line(1, 2000.0), line(2, 600.0, patient="P2")]),
    Case(R, "fee schedule rate x units when no allowed amount", "flag", source=BASIS,
         claims=[line(1, None, units=80), line(2, None, units=3)], expected={L2: None}),
    Case(R, "paid / (1 - coinsurance) when no rate either", "flag", source=BASIS,
         claims=[line(1, None, code="97750", paid=2000.0)], expected={L1: None}),
    Case(R, "no allowed, rate or paid amount counts nothing", "blank", source=BASIS,
         claims=[line(1, None, code="97750", paid=None), line(2, 2400.0)]),
    Case(R, "behavioral-health lines are no therapy spending", "boundary", source=S10_3,
         claims=[line(1, 2000.0), line(2, 600.0, code="H2014", mods=None)]),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_evidence_names_the_basis_and_the_export_limit() -> None:
    by_name = {c.name: c for c in CASES}
    out = check_case(by_name["fee schedule rate x units when no allowed amount"])
    evidence = out["evidence"][0]
    assert "fee schedule 2026 rate 29.92 x 3 units" in evidence
    assert "only spending in this export is visible" in evidence
    paid = check_case(by_name["paid / (1 - coinsurance) when no rate either"])["evidence"][0]
    assert "paid 2000.0 / (1 - 0.2)" in paid


def test_beneficiaries_past_review() -> None:
    claims = pl.LazyFrame(
        [line(1, 2500.0), line(2, 600.0), line(3, 900.0, patient="P2"),
         line(4, 3100.0, patient="P3", mods="GO")],
        schema=CLAIM_SCHEMA,
    )  # fmt: skip
    out = beneficiaries_past_review(claims, load_profile("medicare").codes, REFERENCE)
    assert out.select("patient_id", "group", "allowed").rows() == [
        ("P1", "PT+SLP", 3100.0),
        ("P3", "OT", 3100.0),
    ]
    assert out["review_threshold"].to_list() == [3000.0, 3000.0]


def test_the_amount_at_risk_is_the_part_past_the_threshold() -> None:
    """$2,000 then a $600 line paid $480: $120 of its $600 is past $2,480, so a fifth of its
    paid amount ($96) is at risk; the next line ($40 paid) wholly."""
    from checks.assemble import assemble
    from tests.support.rulekit import make_data, run_rule

    claims = [line(1, 2000.0, paid=1600.0), line(2, 600.0, paid=480.0), line(3, 50.0, paid=40.0)]
    data = make_data(claims, [], [], profile="medicare")
    raw = run_rule(R, data, profile="medicare").with_columns(
        rule_id=pl.lit(R), severity=pl.lit("error")
    )
    fees = pl.LazyFrame(schema={"code": pl.String, "year": pl.Int32, "rate": pl.Float64})
    out = assemble(raw, pl.LazyFrame(claims, schema=CLAIM_SCHEMA), fees).sort("line_number")
    assert out["amount_at_risk"].to_list() == [96.0, 40.0]
    assert "share of the line past it=0.2" in out["evidence"][0]
