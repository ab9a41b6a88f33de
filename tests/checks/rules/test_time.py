"""Truth tables of the time rules (checks/rules/time.py): TIME-MISSING, TIME-INVALID."""

from __future__ import annotations

import polars as pl
import pytest

from checks.assemble import audit
from checks.profile import ProfileError, build_profile
from checks.registry import all_rules
from checks.summary import build_summary
from flows.run.config import fee_schedule
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    NPI_B,
    PLAN_SCHEMA,
    Case,
    check_case,
    claim,
    load_profile,
    make_data,
    mue_table,
    note,
    run_rule,
)

S3 = "CMS Pub. 100-02 Ch. 15 §220.3 (documentation of each treatment: no note, no support)"
MATCH = "README Matching: patient, date of service and code, not provider"
S3_TIMES = "State Medicaid manuals (start and end times); CMS Pub. 100-02 Ch. 15 §220.3 (minutes)"
S220_3 = (
    "CMS Pub. 100-02 Ch. 15 §220.3 C: treatment notes record total timed-code minutes and total "
    "treatment time; clock times are not required"
)
S3_MIN = "CMS Pub. 100-02 Ch. 15 §220.3 (total timed-code minutes required)"
S3_SESSION = "State Medicaid manuals: per-session H-codes need the session's start and end"
S3_VALID = "CMS Pub. 100-02 Ch. 15 §220.3 (billed units consistent with documented time)"
DISC = (
    "CMS Pub. 100-04 Ch. 5 §20.1-20.2: a line is documented by the notes of its discipline "
    "(GP/GO/GN), a note's discipline from its clinician's line"
)
L1 = ("C1", 1)


def _h2032(**kw) -> dict:
    return claim(code="H2032", mods=None, payer="medicaid", **kw)


def _invalid(
    name: str,
    kind: str,
    start: str | None,
    end: str | None,
    minutes: int | None,
    flags: bool,
    **kw,
) -> Case:
    """One note row under the times and minutes given; `flags` whether the line is flagged."""
    return Case(
        "TIME-INVALID", name, kind, source=S3_VALID, claims=[claim()],
        notes=[note(start=start, end=end, minutes=minutes)],
        expected={L1: None} if flags else {}, **kw,
    )  # fmt: skip


# fmt: off
MISSING = [
    # timed codes take the profile's timed_severity: info (no money, the minutes still support
    # the units) under Medicare, an error (whole line) under Medicaid
    Case("TIME-MISSING", "medicare: start missing, minutes present", "flag", source=S220_3,
         claims=[claim(units=2)], notes=[note(start=None, minutes=23)],
         expected={L1: 0}, severity={L1: "info"}),
    Case("TIME-MISSING", "medicaid: start missing, minutes present", "flag", source=S3_TIMES,
         profile="medicaid", claims=[claim(payer="medicaid")], notes=[note(start=None)],
         expected={L1: None}, severity={L1: "error"}),
    Case("TIME-MISSING", "medicare: times and minutes missing", "flag", source=S3_MIN,
         claims=[claim()], notes=[note(start=None, end=None, minutes=None)],
         expected={L1: None}, severity={L1: "error"}),
    Case("TIME-MISSING", "per-session H2032 without end time", "flag", source=S3_SESSION,
         profile="medicaid", claims=[_h2032()], notes=[note(code="H2032", end=None, minutes=45)],
         expected={L1: None}, severity={L1: "error"}),
    Case("TIME-MISSING", "per-session severity lowered to warning", "flag", source=S3_SESSION,
         profile="medicaid", params={"per_session_severity": "warning"}, claims=[_h2032()],
         notes=[note(code="H2032", end=None, minutes=45)],
         expected={L1: 0}, severity={L1: "warning"}),
    Case("TIME-MISSING", "minutes-missing severity lowered to warning", "flag", source=S3_MIN,
         params={"minutes_missing_severity": "warning"}, claims=[claim()],
         notes=[note(start=None, end=None, minutes=None)],
         expected={L1: 0}, severity={L1: "warning"}),
    Case("TIME-MISSING", "times present", "clean", source=S3_TIMES,
         claims=[claim()], notes=[note()]),
    Case("TIME-MISSING", "untimed code without times", "clean", source=S3_TIMES,
         claims=[claim(code="97164")], notes=[note(code="97164", start=None, end=None)]),
    Case("TIME-MISSING", "no note: DOC-NO-NOTE's finding", "clean", source=S3,
         claims=[claim()]),
    Case("TIME-MISSING", "blank end time, blank modifiers and paid", "blank", source=S220_3,
         claims=[claim(mods=None, paid=None)], notes=[note(end=None)],
         expected={L1: 0}, severity={L1: "info"}),
    Case("TIME-MISSING", "blank minutes but times present", "blank", source=S3_TIMES,
         claims=[claim()], notes=[note(minutes=None)]),
    Case("TIME-MISSING", "one of two note rows lacks a start", "boundary", source=S220_3,
         claims=[claim(units=2)],
         notes=[note("N1"), note("N2", start=None, end="09:30", minutes=15)],
         expected={L1: 0}, severity={L1: "info"}),
    Case("TIME-MISSING", "one of two rows lacks minutes too", "boundary", source=S3_MIN,
         claims=[claim(units=2)],
         notes=[note("N1"), note("N2", start=None, end=None, minutes=None)],
         expected={L1: None}, severity={L1: "error"}),
]

INVALID = [
    _invalid("end before start", "flag", "10:00", "09:45", 15, True),
    _invalid("end equals start", "boundary", "09:00", "09:00", 0, True),
    _invalid("one minute, consistent", "boundary", "09:00", "09:01", 1, False),
    _invalid("span 241 over max 240", "boundary", "08:00", "12:01", 241, True),
    _invalid("span 240 at max", "boundary", "08:00", "12:00", 240, False),
    _invalid("minutes off by the tolerance", "boundary", "09:00", "09:15", 17, False),
    _invalid("minutes off by tolerance + 1", "boundary", "09:00", "09:15", 18, True),
    _invalid("minutes off below", "flag", "09:00", "09:30", 15, True),
    _invalid("tolerance 5 accepts 3 off", "boundary", "09:00", "09:15", 18, False,
             params={"minutes_tolerance": 5}),
    _invalid("seconds count: 15.5 min vs 13", "boundary", "09:00", "09:15:30", 13, True),
    _invalid("consistent times", "clean", "09:00", "09:23", 23, False),
    _invalid("blank start time", "blank", None, "09:15", 15, False),
    _invalid("blank end time", "blank", "09:00", None, 15, False),
    _invalid("blank minutes, valid times", "blank", "09:00", "09:15", None, False),
    _invalid("blank minutes, reversed times", "blank", "09:30", "09:00", None, True),
    Case("TIME-INVALID", "untimed code with reversed times", "flag", source=S3_VALID,
         claims=[claim(code="97164")],
         notes=[note(code="97164", start="10:00", end="09:00", minutes=None)],
         expected={L1: None}),
    Case("TIME-INVALID", "several bad rows: one finding", "flag", source=S3_VALID,
         claims=[claim(units=3)],
         notes=[note("N1", start="10:00", end="09:00"), note("N2", minutes=40), note("N3")],
         expected={L1: None}),
    Case("TIME-INVALID", "two lines of the same service", "flag", source=S3_VALID,
         claims=[claim("C1", 1), claim("C2", 1)], notes=[note(start="10:00", end="09:00")],
         expected={L1: None, ("C2", 1): None}),
    # PT and OT bill 97110 the same day: the OT note's times say nothing of the PT line
    Case("TIME-INVALID", "bad OT note, PT and OT lines of one code", "flag", source=DISC,
         claims=[claim("C1", 1, mods="GP"), claim("C2", 1, mods="GO", npi=NPI_B)],
         notes=[note("N1"), note("N2", npi=NPI_B, start="10:00", end="09:00")],
         expected={("C2", 1): None}),
    Case("TIME-MISSING", "OT note without times, PT and OT lines of one code", "flag",
         source=DISC, claims=[claim("C1", 1, mods="GP"), claim("C2", 1, mods="GO", npi=NPI_B)],
         notes=[note("N1"), note("N2", npi=NPI_B, start=None, end=None)],
         expected={("C2", 1): 0}),
    Case("TIME-INVALID", "bad note of another code", "clean", source=S3_VALID,
         claims=[claim()], notes=[note("N1"), note("N2", code="97140", end="08:00")]),
]
# fmt: on

CASES: list[Case] = MISSING + INVALID


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


@pytest.mark.parametrize(
    ("profile", "payer", "expected"),
    [
        ("medicare", "medicare", "info"),
        ("medicaid", "medicaid", "error"),
        ("commercial", "commercial", "warning"),
    ],
)
def test_time_missing_profile_severity(profile: str, payer: str, expected: str) -> None:
    """The shipped profiles set timed_severity: Medicare notes it (info), commercial warns,
    Medicaid takes the line back."""
    data = make_data([claim(payer=payer)], [note(start=None)], profile=profile)
    out = run_rule("TIME-MISSING", data, profile=profile)
    assert load_profile(profile).rules["TIME-MISSING"].params["timed_severity"] == expected
    assert out["severity"].to_list() == [expected]
    whole = expected == "error"
    assert out["excess_units"].to_list() == [None if whole else 0]
    assert out["supported_units"].to_list() == [None if whole else 1]


def test_time_invalid_names_every_reason() -> None:
    notes = [
        note("N1", start="10:00", end="09:00"),
        note("N2", start="08:00", end="13:00", minutes=60),
    ]
    out = run_rule("TIME-INVALID", make_data([claim()], notes))
    row = out.row(0, named=True)
    assert "ends at or before it starts" in row["message"]
    assert "over the 240-minute maximum" in row["message"]
    assert "records 60 minutes but its times span 300" in row["message"]
    assert "N1 10:00–09:00" in row["evidence"]
    assert "N2 08:00–13:00 minutes=60" in row["evidence"]


def test_time_invalid_says_the_same_whatever_the_notes_order() -> None:
    """The reasons come in the order of the notes' ids, not of the rows as exported (the order
    of the rows is no part of the record: found by the any-row-order property)."""
    notes = [
        note("N3", start="08:00", end="08:03", minutes=0),
        note("N5", start="08:00", end="08:00", minutes=None),
    ]
    one = run_rule("TIME-INVALID", make_data([claim()], notes))
    other = run_rule("TIME-INVALID", make_data([claim()], notes[::-1]))
    assert one["message"].to_list() == other["message"].to_list()
    assert one["message"][0].index("records 0 minutes") < one["message"][0].index("ends at or")


def _line(payer: str, code: str = "97110", mods: str | None = "GP", **kw) -> dict:
    return claim(payer=payer, code=code, mods=mods, units=2, **kw)


NO_CLOCK = {"start": None, "end": None, "minutes": 30}
# fmt: off
CLOCK_TIMES = [
    Case("TIME-MISSING", "medicare: minutes without clock times are info", "flag",
         source=S220_3, claims=[_line("medicare")], notes=[note(**NO_CLOCK)],
         expected={L1: 0}, severity={L1: "info"}),
    Case("TIME-MISSING", "medicaid: minutes without clock times take the line", "flag",
         source=S3_TIMES, profile="medicaid", claims=[_line("medicaid")],
         notes=[note(**NO_CLOCK)], expected={L1: None}, severity={L1: "error"}),
    Case("TIME-MISSING", "commercial: minutes without clock times warn", "flag",
         source=S3_TIMES, profile="commercial", claims=[_line("commercial")],
         notes=[note(**NO_CLOCK)], expected={L1: 0}, severity={L1: "warning"}),
    Case("TIME-MISSING", "medicare: per-session H2032 without clock times", "flag",
         source=S3_SESSION, claims=[_line("medicare", "H2032", None, paid=25.0)],
         notes=[note(code="H2032", start=None, end=None, minutes=45)],
         expected={L1: None}, severity={L1: "error"}),
    Case("TIME-MISSING", "medicare: minutes missing too", "flag", source=S3_MIN,
         claims=[_line("medicare")], notes=[note(start=None, end=None, minutes=None)],
         expected={L1: None}, severity={L1: "error"}),
    Case("TIME-MISSING", "medicare: only the end time missing", "boundary", source=S220_3,
         claims=[_line("medicare")], notes=[note(end=None, minutes=30)],
         expected={L1: 0}, severity={L1: "info"}),
    Case("TIME-MISSING", "medicare: an info row and a row without minutes", "boundary",
         source=S3_MIN, claims=[_line("medicare")],
         notes=[note("N1", **NO_CLOCK), note("N2", start=None, end=None, minutes=None)],
         expected={L1: None}, severity={L1: "error"}),
    Case("TIME-MISSING", "medicare: clock times and minutes documented", "clean",
         source=S220_3, claims=[_line("medicare")], notes=[note(end="09:30", minutes=30)]),
]
# fmt: on


@pytest.mark.parametrize("case", CLOCK_TIMES, ids=lambda c: c.id)
def test_clock_times_case(case: Case) -> None:
    check_case(case)


def test_medicare_info_puts_no_money_at_risk_and_is_summarised() -> None:
    """Through assembly and the summary: the Medicare info finding risks 0 and is counted under
    info; the Medicaid error risks the line's paid amount."""
    claims = [
        _line("medicare", paid=60.0),
        claim("C2", payer="medicaid", mods=None, units=2, patient="P2", paid=50.0),
    ]
    notes = [note("N1", **NO_CLOCK), note("N2", patient="P2", **NO_CLOCK)]
    profiles = {n: load_profile(n) for n in ("medicare", "medicaid")}
    rules = {"TIME-MISSING": all_rules()["TIME-MISSING"]}
    result = audit(
        pl.DataFrame(claims, schema=CLAIM_SCHEMA),
        pl.DataFrame(notes, schema=NOTE_SCHEMA),
        pl.DataFrame([], schema=PLAN_SCHEMA),
        profiles=profiles,
        fee_schedule=fee_schedule(),
        mue=mue_table(),
        rules=rules,
    )
    got = {r["claim_id"]: r for r in result.findings.to_dicts()}
    assert (got["C1"]["severity"], got["C1"]["amount_at_risk"]) == ("info", 0.0)
    assert "not clock times" in got["C1"]["message"]
    assert (got["C2"]["severity"], got["C2"]["amount_at_risk"]) == ("error", 50.0)
    summary = build_summary(result, rules)
    assert summary["by_severity"]["info"] == {"findings": 1, "lines": 1, "amount_at_risk": 0.0}
    assert summary["by_severity"]["error"]["amount_at_risk"] == 50.0


@pytest.mark.parametrize("value", ["info", "warning", "error"])
def test_timed_severity_accepts_every_severity(value: str) -> None:
    raw = {"profile": {"name": "p"}, "rules": {"TIME-MISSING": {"timed_severity": value}}}
    assert (
        build_profile(raw, "p.toml", all_rules()).rules["TIME-MISSING"].params["timed_severity"]
        == value
    )


def test_timed_severity_refuses_other_values() -> None:
    raw = {"profile": {"name": "p"}, "rules": {"TIME-MISSING": {"timed_severity": "notice"}}}
    with pytest.raises(
        ProfileError, match=r"p\.toml: rules\.TIME-MISSING\.timed_severity must be one of"
    ):
        build_profile(raw, "p.toml", all_rules())
