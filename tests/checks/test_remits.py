"""checks/remits.py as a truth table: which remittance pays which claim line, and what the line
then says it was paid and allowed (ASC X12N 835 005010X221A1: CLP01 is the provider's claim id,
REF*6R of loop 2110 the 837's line item control number, AMT*B6 the allowed amount, CAS group CO
the contractual obligation)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from checks.remits import NO_REMIT, apply_remits

DAY = dt.date(2026, 3, 2)
CLAIMS = {
    "claim_id": pl.String,
    "line_number": pl.Int64,
    "service_date": pl.Date,
    "procedure_code": pl.String,
    "modifiers": pl.String,
    "units": pl.Int64,
    "charge_amount": pl.Float64,
    "paid_amount": pl.Float64,
    "allowed_amount": pl.Float64,
    "line_control": pl.String,
    "line_note": pl.String,
}
REMITS = {
    "claim_id": pl.String,
    "line_control": pl.String,
    "procedure_code": pl.String,
    "modifiers": pl.String,
    "service_date": pl.Date,
    "units": pl.Int64,
    "charge_amount": pl.Float64,
    "paid_amount": pl.Float64,
    "allowed_amount": pl.Float64,
    "co_adjustment": pl.Float64,
    "adjustments": pl.String,
}


def line(**changes: Any) -> dict[str, Any]:
    base = {
        "claim_id": "C1",
        "line_number": 1,
        "service_date": DAY,
        "procedure_code": "97110",
        "modifiers": "GP",
        "units": 2,
        "charge_amount": 100.0,
        "paid_amount": None,
        "allowed_amount": None,
        "line_control": None,
        "line_note": None,
    }
    return base | changes


def remit(**changes: Any) -> dict[str, Any]:
    base = {
        "claim_id": "C1",
        "line_control": None,
        "procedure_code": "97110",
        "modifiers": "GP",
        "service_date": DAY,
        "units": 2,
        "charge_amount": 100.0,
        "paid_amount": 60.0,
        "allowed_amount": None,
        "co_adjustment": 25.0,
        "adjustments": "CO-45 25.00; PR-2 15.00",
    }
    return base | changes


@dataclass(frozen=True)
class Case:
    claims: list[dict[str, Any]]
    remits: list[dict[str, Any]]
    paid: list[float | None]
    allowed: list[float | None]
    note: list[str] = field(default_factory=list)  # a piece of each line's note
    source: str = ""


CASES = {
    "control_number_match": Case(
        [line(line_control="L1"), line(line_number=2, line_control="L2")],
        [remit(line_control="L2", paid_amount=10.0), remit(line_control="L1")],
        [60.0, 10.0],
        [75.0, 75.0],
        ["matched by REF*6R line control; adjustments CO-45 25.00; PR-2 15.00", "paid 10.00"],
        "835 guide loop 2110 REF*6R: the 837's line item control number identifies the line",
    ),
    "allowed_amount_from_amt_b6": Case(
        [line()],
        [remit(allowed_amount=80.0)],
        [60.0],
        [80.0],
        ["allowed 80.00, matched by code"],
        "835 guide loop 2110 AMT*B6: the allowed actual amount when the payer sends it",
    ),
    "allowed_is_charge_less_co": Case(
        [line()],
        [remit()],
        [60.0],
        [75.0],
        ["allowed 75.00 (charge less CO adjustments)"],
        "835 guide CAS group CO (contractual obligation): charge above the allowed amount",
    ),
    "fallback_needs_the_same_modifiers": Case(
        [line(modifiers="GP:KX")],
        [remit()],
        [None],
        [None],
        [NO_REMIT],
        "a line paid under other modifiers is another line (SVC01 carries the modifiers)",
    ),
    "reversal_and_correction_add_up": Case(
        [line()],
        [
            remit(),
            remit(paid_amount=-60.0, charge_amount=-100.0, co_adjustment=-25.0),
            remit(paid_amount=48.0),
        ],
        [48.0],
        [75.0],
        ["paid 48.00"],
        "835 guide CLP02 22 (reversal of previous payment) followed by the corrected claim",
    ),
    "identical_lines_share_a_payment": Case(
        [line(), line(line_number=2)],
        [remit(paid_amount=50.0), remit(paid_amount=50.0)],
        [50.0, 50.0],
        [75.0, 75.0],
        ["code, modifiers, date and units", "code, modifiers, date and units"],
        "two lines billed alike and paid alike: each gets half of the total",
    ),
    "no_remittance_keeps_the_claims_amounts": Case(
        [line(paid_amount=30.0, line_note="units: 38 minutes billed")],
        [remit(claim_id="C9")],
        [30.0],
        [None],
        ["units: 38 minutes billed; " + NO_REMIT],
        "a line the remittances do not pay says so and keeps its own amounts",
    ),
    "claim_level_payment_shared_by_charge": Case(
        [
            line(),
            line(line_number=2, charge_amount=50.0),
            line(line_number=3, procedure_code="97140"),
        ],
        [
            remit(procedure_code="97140", paid_amount=30.0),
            remit(
                procedure_code=None,
                modifiers=None,
                units=None,
                charge_amount=150.0,
                paid_amount=90.0,
                co_adjustment=30.0,
                adjustments="CO-45 30.00",
            ),
        ],
        [60.0, 30.0, 30.0],
        [80.0, 40.0, 75.0],
        ["a claim-level payment shared by charge", "shared by charge", "matched by code"],
        "835 guide loop 2100 CLP04 without loop 2110: the claim paid as a whole",
    ),
    "unknown_control_number_falls_back_to_the_key": Case(
        [line(line_control="L1")],
        [remit(line_control="OTHER")],
        [60.0],
        [75.0],
        ["matched by code, modifiers, date and units"],
        "payers that echo another control number still pay the line billed",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_remits_truth_table(name: str) -> None:
    case = CASES[name]
    assert case.source
    claims = pl.DataFrame(case.claims, schema=CLAIMS)
    out = apply_remits(claims.lazy(), pl.DataFrame(case.remits, schema=REMITS).lazy()).collect()
    assert out.columns == claims.columns
    assert out["line_number"].to_list() == claims["line_number"].to_list()
    assert out["paid_amount"].to_list() == pytest.approx(case.paid)
    assert out["allowed_amount"].to_list() == pytest.approx(case.allowed)
    for note, piece in zip(out["line_note"], case.note, strict=True):
        assert piece in note


@given(st.lists(st.integers(min_value=-5000, max_value=5000), min_size=1, max_size=8))
def test_total_paid_is_kept_on_one_line(cents: list[int]) -> None:
    # whatever the payments and take-backs, the line carries their sum
    remits = [remit(paid_amount=c / 100) for c in cents]
    out = apply_remits(
        pl.DataFrame([line()], schema=CLAIMS).lazy(), pl.DataFrame(remits, schema=REMITS).lazy()
    ).collect()
    assert out["paid_amount"][0] == pytest.approx(sum(cents) / 100)


def test_columns_line_control_and_note_are_added_when_absent() -> None:
    claims = pl.DataFrame([line()], schema=CLAIMS).drop("line_control", "line_note")
    out = apply_remits(claims.lazy(), pl.DataFrame([remit()], schema=REMITS).lazy()).collect()
    assert out.columns[-2:] == ["line_control", "line_note"]
