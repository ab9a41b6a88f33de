"""Truth table of the assistant rule (checks/rules/assistants.py): ASSISTANT-MOD-MISSING."""

from __future__ import annotations

import pytest

from checks.base import rule_output
from tests.support.rulekit import NPI_A, NPI_B, Case, check_case, claim, note, provider

BBA = (
    "Bipartisan Budget Act of 2018 §53107: services furnished in whole or in part (over 10 %) "
    "by a PTA/OTA carry CQ/CO and are paid at 85 %; CMS Pub. 100-04 Ch. 5 §20.1"
)
R = "ASSISTANT-MOD-MISSING"
L1 = ("C1", 1)
PTA = provider(NPI_B, "PTA", discipline="PT", supervising=NPI_A)
OTA = provider(NPI_B, "OTA", discipline="OT", supervising=NPI_A)
PT = provider(NPI_A, "PT", discipline="PT")
SHARE = {L1: 0.15}

# fmt: off
CASES = [
    Case(R, "rendered by a PTA without CQ", "flag", source=BBA, providers=[PTA, PT],
         claims=[claim(npi=NPI_B, mods="GP")], notes=[note(npi=NPI_B)],
         expected={L1: None}, risk_share=SHARE),
    Case(R, "rendered by a PTA with CQ", "clean", source=BBA, providers=[PTA, PT],
         claims=[claim(npi=NPI_B, mods="GP:CQ")], notes=[note(npi=NPI_B)]),
    Case(R, "rendered by an OTA with CQ instead of CO", "flag", source=BBA, providers=[OTA],
         claims=[claim(npi=NPI_B, mods="GO:CQ")], expected={L1: None}, risk_share=SHARE),
    Case(R, "billed under the PT, documented by the PTA", "flag", source=BBA,
         providers=[PTA, PT], claims=[claim(units=2, mods="GP")],
         notes=[note("N1", end="09:30", minutes=30, npi=NPI_B)],
         expected={L1: None}, risk_share=SHARE),
    Case(R, "PTA part of 10 % of the minutes is de minimis", "boundary", source=BBA,
         providers=[PTA, PT], claims=[claim(units=3, mods="GP")],
         notes=[note("N1", end="09:45", minutes=45),
                note("N2", start="09:45", end="09:50", minutes=5, npi=NPI_B)]),
    Case(R, "PTA part of 11 minutes of 50", "boundary", source=BBA,
         providers=[PTA, PT], claims=[claim(units=3, mods="GP")],
         notes=[note("N1", end="09:39", minutes=39),
                note("N2", start="09:39", end="09:50", minutes=11, npi=NPI_B)],
         expected={L1: None}, risk_share=SHARE),
    Case(R, "PTA note without minutes counts as a part", "blank", source=BBA,
         providers=[PTA, PT], claims=[claim(units=2, mods="GP")],
         notes=[note("N1", end="09:30", minutes=30),
                note("N2", start=None, end=None, minutes=None, npi=NPI_B)],
         expected={L1: None}, risk_share=SHARE),
    Case(R, "therapists only", "clean", source=BBA, providers=[PT],
         claims=[claim(mods="GP")], notes=[note()]),
    Case(R, "no providers export", "blank", source=BBA,
         claims=[claim(npi=NPI_B, mods="GP")], notes=[note(npi=NPI_B)],
         not_applicable="no providers export given"),
    Case(R, "role given in lower case", "boundary", source=BBA,
         providers=[provider(NPI_B, "pta", discipline="pt")],
         claims=[claim(npi=NPI_B, mods="GP")], expected={L1: None}, risk_share=SHARE),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_the_amount_at_risk_is_the_reduction() -> None:
    """assemble puts the rule's share of the line's paid amount at risk, the whole line for
    rules that give none."""
    import polars as pl

    from checks.assemble import assemble
    from checks.declare import RISK_SHARE_COLUMN
    from tests.support.rulekit import CLAIM_SCHEMA

    claims = pl.LazyFrame([claim(paid=80.0), claim(line=2, paid=50.0)], schema=CLAIM_SCHEMA)
    base = rule_output(
        claims.select("claim_id", "line_number"),
        supported=pl.lit(None),
        excess=pl.lit(None),
        message=pl.lit("m"),
        evidence=pl.lit("e"),
    ).collect()
    raw = base.with_columns(
        rule_id=pl.lit("X-Y"),
        severity=pl.lit("error"),
        **{RISK_SHARE_COLUMN: pl.Series([0.15, None], dtype=pl.Float64)},
    )
    fees = pl.LazyFrame(schema={"code": pl.String, "year": pl.Int32, "rate": pl.Float64})
    out = assemble(raw, claims, fees)
    assert out["amount_at_risk"].to_list() == [12.0, 50.0]
