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
L2 = ("C1", 2)
SHARE = {L1: 0.15}
CY2022 = (
    "CY 2022 PFS final rule and CMS 'Billing Examples Using CQ/CO Modifiers': the de minimis "
    "test per 15-minute unit; PTA 23 min + PT 13 min of 97110 = 2 units, one with CQ"
)

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
         expected={L1: None}, risk_share={L1: 0.05}),
    Case(R, "PTA note without minutes counts as a part", "blank", source=BBA,
         providers=[PTA, PT], claims=[claim(units=2, mods="GP")],
         notes=[note("N1", end="09:30", minutes=30),
                note("N2", start=None, end=None, minutes=None, npi=NPI_B)],
         expected={L1: None}, risk_share={L1: 0.075}),
    Case(R, "CMS example: PTA 23 + PT 13 min, one unit GP:CQ and one GP", "clean",
         source=CY2022, providers=[PTA, PT],
         claims=[claim(mods="GP:CQ"), claim(line=2, mods="GP")],
         notes=[note("N1", end="09:23", minutes=23, npi=NPI_B),
                note("N2", start="09:23", end="09:36", minutes=13)]),
    Case(R, "CMS example billed as 2 units GP:CQ (over-marked, no shortfall)", "clean",
         source=CY2022, providers=[PTA, PT], claims=[claim(units=2, mods="GP:CQ")],
         notes=[note("N1", end="09:23", minutes=23, npi=NPI_B),
                note("N2", start="09:23", end="09:36", minutes=13)]),
    Case(R, "CMS example billed as 2 units GP: one unit short", "flag", source=CY2022,
         providers=[PTA, PT], claims=[claim(units=2, mods="GP")],
         notes=[note("N1", end="09:23", minutes=23, npi=NPI_B),
                note("N2", start="09:23", end="09:36", minutes=13)],
         expected={L1: None}, risk_share={L1: 0.075}),
    Case(R, "CMS example with both lines GP: the later line takes the shortfall", "flag",
         source=CY2022, providers=[PTA, PT],
         claims=[claim(mods="GP"), claim(line=2, mods="GP")],
         notes=[note("N1", end="09:23", minutes=23, npi=NPI_B),
                note("N2", start="09:23", end="09:36", minutes=13)],
         expected={L2: None}, risk_share={L2: 0.15}),
    Case(R, "PTA 10 + PT 5 min, one unit: the assistant furnished more", "flag",
         source=CY2022, providers=[PTA, PT], claims=[claim(mods="GP")],
         notes=[note("N1", end="09:10", minutes=10, npi=NPI_B),
                note("N2", start="09:10", end="09:15", minutes=5)],
         expected={L1: None}, risk_share=SHARE),
    Case(R, "PT 30 + PTA 10 min, 3 units, one GP:CQ", "clean", source=CY2022,
         providers=[PTA, PT], claims=[claim(units=2, mods="GP"), claim(line=2, mods="GP:CQ")],
         notes=[note("N1", end="09:30", minutes=30),
                note("N2", start="09:30", end="09:40", minutes=10, npi=NPI_B)]),
    Case(R, "2021 service without CQ: flagged, no payment reduction yet", "boundary",
         source=BBA + "; the reduction applies from 1 January 2022, the modifier from 2020",
         providers=[PTA, PT], claims=[claim(npi=NPI_B, mods="GP", date="2021-12-31")],
         notes=[note(npi=NPI_B, date="2021-12-31")],
         expected={L1: None}, risk_share={L1: 0.0}),
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
