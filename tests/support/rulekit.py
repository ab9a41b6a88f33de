"""Builders for rule truth tables: small typed frames with sensible defaults, so each case in a
table states only what it is about."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from checks.base import PROVIDERS_SCHEMA, AuditData
from checks.declare import RULE_OUTPUT_SCHEMA
from checks.matching import prepare
from checks.needs import providers_frame, reason_for, unmet_needs, with_optional
from checks.profile import Profile, build_profile
from checks.registry import all_rules
from data import MUE, PROFILES
from flows.run.config import reference_tables
from schemas.contract import npi_check_digit

NPI_A = "123456789" + str(npi_check_digit("123456789"))
NPI_B = "198765432" + str(npi_check_digit("198765432"))
DAY = dt.date(2026, 3, 2)

CLAIM_SCHEMA: dict[str, Any] = {
    "claim_id": pl.String,
    "line_number": pl.Int64,
    "patient_id": pl.String,
    "rendering_npi": pl.String,
    "payer_type": pl.String,
    "payer_id": pl.String,
    "service_date": pl.Date,
    "procedure_code": pl.String,
    "modifiers": pl.String,
    "units": pl.Int64,
    "charge_amount": pl.Float64,
    "paid_amount": pl.Float64,
    "allowed_amount": pl.Float64,  # optional column of the contract
}
NOTE_SCHEMA: dict[str, Any] = {
    "note_id": pl.String,
    "patient_id": pl.String,
    "provider_npi": pl.String,
    "service_date": pl.Date,
    "procedure_code": pl.String,
    "start_time": pl.Time,
    "end_time": pl.Time,
    "minutes": pl.Int64,
    "signed_at": pl.Datetime("us"),
    "note_text": pl.String,
    "discipline": pl.String,
    "note_type": pl.String,  # optional column of the contract
    "text_hash": pl.UInt64,  # the normalised note text's hash (checks.measures.note_text_hash)
}
PLAN_SCHEMA: dict[str, Any] = {
    "plan_id": pl.String,
    "patient_id": pl.String,
    "discipline": pl.String,
    "cert_start": pl.Date,
    "cert_end": pl.Date,
    "signed_date": pl.Date,
    "certifying_npi": pl.String,
    "order_signed_date": pl.Date,
    "sent_date": pl.Date,
}


def _time(value: str | None) -> dt.time | None:
    return None if value is None else dt.time.fromisoformat(value)


def _date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def claim(
    claim_id: str = "C1",
    line: int = 1,
    *,
    patient: str = "P1",
    npi: str = NPI_A,
    payer: str = "medicare",
    date: str | dt.date = DAY,
    code: str = "97110",
    mods: str | None = "GP",
    units: int = 1,
    paid: float | None = 30.0,
    charge: float = 50.0,
    allowed: float | None = None,
) -> dict[str, Any]:
    return {
        "claim_id": claim_id,
        "line_number": line,
        "patient_id": patient,
        "rendering_npi": npi,
        "payer_type": payer,
        "payer_id": None,
        "service_date": _date(date),
        "procedure_code": code,
        "modifiers": mods,
        "units": units,
        "charge_amount": charge,
        "paid_amount": paid,
        "allowed_amount": allowed,
    }


def _datetime(value: str | dt.datetime | None) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def note(
    note_id: str = "N1",
    *,
    patient: str = "P1",
    npi: str = NPI_A,
    date: str | dt.date = DAY,
    code: str = "97110",
    start: str | None = "09:00",
    end: str | None = "09:15",
    minutes: int | None = 15,
    discipline: str | None = None,
    signed: str | dt.datetime | None = None,
    note_type: str | None = None,
    text_hash: int | None = None,
) -> dict[str, Any]:
    return {
        "discipline": discipline,
        "note_id": note_id,
        "patient_id": patient,
        "provider_npi": npi,
        "service_date": _date(date),
        "procedure_code": code,
        "start_time": _time(start),
        "end_time": _time(end),
        "minutes": minutes,
        "signed_at": _datetime(signed),
        "note_text": None,
        "note_type": note_type,
        "text_hash": text_hash,
    }


def provider(
    npi: str = NPI_A,
    role: str | None = "PT",
    *,
    discipline: str | None = "PT",
    name: str | None = "Synthetic Clinician",
    supervising: str | None = None,
) -> dict[str, Any]:
    """A row of the optional providers export."""
    return {
        "npi": npi,
        "name": name,
        "role": role,
        "discipline": discipline,
        "supervising_npi": supervising,
    }


def plan(
    plan_id: str = "POC1",
    *,
    patient: str = "P1",
    discipline: str | None = "PT",
    start: str | dt.date = "2026-02-01",
    end: str | dt.date = "2026-04-30",
    signed: str | dt.date | None = "2026-02-03",
    order: str | dt.date | None = None,
    sent: str | dt.date | None = None,
) -> dict[str, Any]:
    return {
        "plan_id": plan_id,
        "patient_id": patient,
        "discipline": discipline,
        "cert_start": _date(start),
        "cert_end": _date(end),
        "signed_date": _date(signed),
        "certifying_npi": NPI_B,
        "order_signed_date": _date(order),
        "sent_date": _date(sent),
    }


def load_profile(name: str) -> Profile:
    path = PROFILES / f"{name}.toml"
    with path.open("rb") as fh:
        return build_profile(tomllib.load(fh), str(path), all_rules())


def shipped_profiles() -> dict[str, Profile]:
    """The three shipped payer profiles by name, as the engine's default run reads them."""
    return {n: load_profile(n) for n in ("medicare", "medicaid", "commercial")}


def mue_table() -> pl.LazyFrame:
    return pl.scan_csv(MUE, schema_overrides={"code": pl.String})


def make_data(
    claims: list[dict[str, Any]],
    notes: list[dict[str, Any]] | None = None,
    plans: list[dict[str, Any]] | None = None,
    profile: str = "medicare",
    providers: list[dict[str, Any]] | None = None,
) -> AuditData:
    """AuditData as the engine builds it; `providers` None: no providers export given."""
    prof = load_profile(profile)
    claims_lf = pl.LazyFrame(claims, schema=CLAIM_SCHEMA)
    notes_lf = pl.LazyFrame(notes or [], schema=NOTE_SCHEMA)
    plans_lf = pl.LazyFrame(plans or [], schema=PLAN_SCHEMA)
    lines, matched_notes = prepare(claims_lf, notes_lf, prof.codes)
    given = None if providers is None else pl.LazyFrame(providers, schema=PROVIDERS_SCHEMA)
    return AuditData(
        lines=with_optional(lines, "claims"),
        notes=with_optional(matched_notes, "notes"),
        plans=plans_lf,
        mue=mue_table(),
        codes=prof.codes,
        providers=providers_frame(given),
        reference=REFERENCE,
    )


REFERENCE = reference_tables()


def not_applicable(rule_id: str, data: AuditData) -> str | None:
    """Why the engine would not run the rule on `data` (its unmet needs), or None."""
    needs = all_rules()[rule_id].needs
    frames = {"claims": data.lines, "notes": data.notes, "plans": data.plans}
    unmet = unmet_needs(needs, frames=frames, providers=data.providers, reference=data.reference)
    return reason_for(needs, unmet)


def run_rule(
    rule_id: str, data: AuditData, profile: str = "medicare", **overrides: Any
) -> pl.DataFrame:
    """Run one rule with the profile's parameters (plus overrides); check the output contract."""
    declared = all_rules()[rule_id]
    params = {**load_profile(profile).rules[rule_id].params, **overrides}
    out = declared.func(data, **params).collect()
    expected = set(RULE_OUTPUT_SCHEMA)
    assert expected <= set(out.columns), f"{rule_id} output lacks {expected - set(out.columns)}"
    for name, dtype in RULE_OUTPUT_SCHEMA.items():
        assert out.schema[name] == dtype, f"{rule_id}.{name} is {out.schema[name]}, not {dtype}"
    assert out.select(*LINE).is_duplicated().sum() == 0, f"{rule_id} flagged a line twice"
    return out.sort(*LINE)


LINE = ("claim_id", "line_number")


def flagged(out: pl.DataFrame) -> list[tuple[str, int]]:
    return [(r["claim_id"], r["line_number"]) for r in out.select(*LINE).to_dicts()]


def excess(out: pl.DataFrame) -> dict[tuple[str, int], int | None]:
    return {(r["claim_id"], r["line_number"]): r["excess_units"] for r in out.to_dicts()}


KINDS = ("flag", "clean", "blank", "boundary")


@dataclass(frozen=True)
class Case:
    """One row of a rule truth table.

    `expected` maps each line the rule must flag to its excess units (None for a whole-line
    finding, 0 for a finding that puts no money at risk); every other line must stay clean.
    `severity`, when given, maps flagged lines to the severity the finding must carry.
    """

    rule_id: str
    name: str
    kind: str  # one of KINDS: flagging, clean, blank-value, boundary case
    claims: list[dict[str, Any]]
    notes: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    expected: dict[tuple[str, int], int | None] = field(default_factory=dict)
    profile: str = "medicare"
    params: dict[str, Any] = field(default_factory=dict)
    severity: dict[tuple[str, int], str] = field(default_factory=dict)
    source: str = ""  # the public rule text this case comes from (manual, chapter, section)
    providers: list[dict[str, Any]] | None = None  # None: no providers export given
    # the share of the line's paid amount at risk per flagged line (checks/declare.py), if set
    risk_share: dict[tuple[str, int], float | None] = field(default_factory=dict)
    # the reason the engine gives when the rule is not applicable here ("blank" cases)
    not_applicable: str | None = None

    def __post_init__(self) -> None:
        assert self.kind in KINDS, self.kind

    @property
    def id(self) -> str:
        return f"{self.rule_id}:{self.kind}:{self.name}"


def check_case(case: Case) -> pl.DataFrame:
    """Run a case and assert the flagged lines, excess units and severities. A rule whose
    needs the case does not meet is not run, as the engine would not run it: the case then
    states the reason and flags nothing."""
    data = make_data(
        case.claims, case.notes, case.plans, profile=case.profile, providers=case.providers
    )
    reason = not_applicable(case.rule_id, data)
    assert reason == case.not_applicable, f"{case.id}: not applicable because {reason!r}"
    if reason is not None:
        assert not case.expected, f"{case.id}: a rule that does not run flags nothing"
        return pl.DataFrame(schema=RULE_OUTPUT_SCHEMA)
    out = run_rule(case.rule_id, data, profile=case.profile, **case.params)
    assert excess(out) == case.expected, f"{case.id}: got {excess(out)}"
    if case.severity:
        assert "severity" in out.columns, f"{case.id}: rule sets no per-finding severity"
        got = {(r["claim_id"], r["line_number"]): r["severity"] for r in out.to_dicts()}
        assert got == case.severity, f"{case.id}: severities {got}"
    if case.risk_share:
        assert "risk_share" in out.columns, f"{case.id}: rule sets no risk share"
        got_share = {(r["claim_id"], r["line_number"]): r["risk_share"] for r in out.to_dicts()}
        assert got_share == case.risk_share, f"{case.id}: risk shares {got_share}"
    for row in out.to_dicts():
        assert row["message"], f"{case.id}: empty message"
        assert row["evidence"] is not None, f"{case.id}: no evidence"
    return out
