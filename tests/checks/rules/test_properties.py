"""Property tests over every rule: findings only name input lines and never claim more
excess units than were billed; the same input gives the same findings whatever the row order;
loosening a parameter never adds findings."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.assemble import assemble
from checks.engine import run_rules
from checks.profile import Profile, RuleSettings
from flows.run.config import fee_schedule
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    NPI_A,
    NPI_B,
    PLAN_SCHEMA,
    load_profile,
    mue_table,
)

CODES = ["97110", "97530", "97140", "97112", "97010", "97161", "H2032", "H2014"]
DATES = [dt.date(2026, 3, 2), dt.date(2026, 3, 3), dt.date(2026, 6, 1)]
PATIENTS = ["P1", "P2", "P3"]

# parameter -> a looser value (fewer or equal findings expected)
LOOSER: dict[str, dict[str, Any]] = {
    "UNITS-8MIN": {"min_minutes": 1},
    "UNITS-UNTIMED": {"max_units_per_day": 3},
    "UNITS-SESSION-MIN": {"min_session_minutes": 10},
    "OVERLAP-PROVIDER": {"min_overlap_minutes": 20},
    "OVERLAP-DAY-CAP": {"cap_minutes": 900},
    "POC-EXPIRED": {"max_cert_days": 400},
    "POC-UNSIGNED": {"max_signature_delay_days": 400},
    "TIME-INVALID": {"max_span_minutes": 600, "minutes_tolerance": 30},
}


@st.composite
def datasets(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    n_lines = draw(st.integers(1, 10))
    claims, notes = [], []
    for i in range(n_lines):
        patient = draw(st.sampled_from(PATIENTS))
        date = draw(st.sampled_from(DATES))
        code = draw(st.sampled_from(CODES))
        npi = draw(st.sampled_from([NPI_A, NPI_B]))
        claims.append(
            {
                "claim_id": f"C{draw(st.integers(1, 4))}",
                "line_number": i + 1,
                "patient_id": patient,
                "rendering_npi": npi,
                "payer_type": draw(st.sampled_from(["medicare", "medicaid", "commercial"])),
                "payer_id": None,
                "service_date": date,
                "procedure_code": code,
                "modifiers": draw(st.sampled_from([None, "GP", "GO", "GP:59"])),
                "units": draw(st.integers(0, 6)),
                "charge_amount": 50.0,
                "paid_amount": draw(st.sampled_from([None, 0.0, 30.0, 61.5])),
            }
        )
        if draw(st.booleans()):
            start = draw(st.one_of(st.none(), st.integers(8 * 60, 11 * 60)))
            span = draw(st.integers(-10, 90))
            end = None if start is None or draw(st.booleans()) else start + span
            notes.append(
                {
                    "note_id": f"N{i}",
                    "patient_id": patient,
                    "provider_npi": npi,
                    "service_date": date,
                    "procedure_code": code,
                    "start_time": None if start is None else dt.time(start // 60, start % 60),
                    "end_time": None
                    if end is None or not 0 <= end < 24 * 60
                    else dt.time(end // 60, end % 60),
                    "minutes": draw(st.one_of(st.none(), st.integers(0, 90))),
                    "signed_at": None,
                    "note_text": None,
                }
            )
    plans = []
    for j in range(draw(st.integers(0, 4))):
        start = dt.date(2026, 1, 1) + dt.timedelta(days=draw(st.integers(0, 150)))
        signed = draw(st.one_of(st.none(), st.integers(-5, 60)))
        plans.append(
            {
                "plan_id": f"POC{j}",
                "patient_id": draw(st.sampled_from(PATIENTS)),
                "discipline": draw(st.sampled_from([None, "PT", "OT", "BH"])),
                "cert_start": start,
                "cert_end": start + dt.timedelta(days=draw(st.integers(0, 120))),
                "signed_date": None if signed is None else start + dt.timedelta(days=signed),
                "certifying_npi": None,
            }
        )
    return (
        pl.DataFrame(claims, schema=CLAIM_SCHEMA),
        pl.DataFrame(notes, schema=NOTE_SCHEMA),
        pl.DataFrame(plans, schema=PLAN_SCHEMA),
    )


PROFILES = {name: load_profile(name) for name in ("medicare", "medicaid", "commercial")}


def findings(
    claims: pl.DataFrame, notes: pl.DataFrame, plans: pl.DataFrame, override: Profile | None = None
) -> pl.DataFrame:
    raw, runs, _ = run_rules(
        claims.lazy(),
        notes.lazy(),
        plans.lazy(),
        profiles=PROFILES,
        mue=mue_table(),
        override=override,
    )
    failed = {r.rule_id: r.error for r in runs.values() if r.error}
    assert not failed, failed
    return assemble(raw, claims.lazy(), fee_schedule())


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(datasets())
def test_findings_name_only_input_lines_and_billed_units(data: tuple) -> None:
    claims, notes, plans = data
    out = findings(claims, notes, plans)
    keys = set(zip(claims["claim_id"], claims["line_number"], strict=True))
    assert set(zip(out["claim_id"], out["line_number"], strict=True)) <= keys
    bad = out.filter(pl.col("excess_units") > pl.col("billed_units"))
    assert bad.is_empty(), bad
    assert (out["amount_at_risk"] >= 0).all()


@SETTINGS
@given(datasets(), st.randoms(use_true_random=False))
def test_same_input_any_row_order_same_findings(data: tuple, rnd: Any) -> None:
    claims, notes, plans = data
    first = findings(claims, notes, plans)

    def shuffled(df: pl.DataFrame) -> pl.DataFrame:
        order = list(range(df.height))
        rnd.shuffle(order)
        return df[order] if df.height else df

    again = findings(shuffled(claims), shuffled(notes), shuffled(plans))
    assert first.equals(again)


@SETTINGS
@given(datasets(), st.sampled_from(sorted(PROFILES)))
def test_loosening_a_parameter_never_adds_findings(data: tuple, name: str) -> None:
    claims, notes, plans = data
    base = PROFILES[name]
    strict = findings(claims, notes, plans, override=base)
    loose_rules = {
        rule_id: RuleSettings(s.enabled, s.severity, {**s.params, **LOOSER.get(rule_id, {})})
        for rule_id, s in base.rules.items()
    }
    loose = findings(claims, notes, plans, override=replace(base, rules=loose_rules))
    for rule_id in LOOSER:
        before = strict.filter(pl.col("rule_id") == rule_id).select("claim_id", "line_number")
        after = loose.filter(pl.col("rule_id") == rule_id).select("claim_id", "line_number")
        added = after.join(before, on=["claim_id", "line_number"], how="anti")
        assert added.is_empty(), f"{rule_id}: loosening added {added.to_dicts()}"
