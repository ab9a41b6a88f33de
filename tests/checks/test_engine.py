"""The engine: profiles by payer type, failure isolation, money and finding ids."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from polars.exceptions import PanicException

from checks import engine
from checks.assemble import assemble
from checks.base import Shared
from checks.engine import FAILED, FINDINGS, NOT_APPLICABLE, PASSED, run_rules
from checks.registry import all_rules
from flows.run.config import fee_schedule
from flows.synth.generate import generate
from schemas.findings import FINDINGS_SCHEMA
from tests.support.rows import THREE_EXPORTS as EXPORTS
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    PLAN_SCHEMA,
    claim,
    mue_table,
    note,
    plan,
    shipped_profiles,
)

PROFILES = shipped_profiles()


def frames(claims: list, notes: list, plans: list) -> tuple[pl.LazyFrame, ...]:
    return (
        pl.LazyFrame(claims, schema=CLAIM_SCHEMA),
        pl.LazyFrame(notes, schema=NOTE_SCHEMA),
        pl.LazyFrame(plans, schema=PLAN_SCHEMA),
    )


def broken(exc: BaseException):
    def func(data, **params):
        raise exc

    return func


@pytest.mark.parametrize("exc", [ZeroDivisionError("boom"), PanicException("polars bug")])
def test_a_rule_that_raises_is_failed_to_run_and_the_rest_complete(exc: BaseException) -> None:
    rules = all_rules()
    rules["UNITS-MUE"] = replace(rules["UNITS-MUE"], func=broken(exc))
    c, n, p = frames([claim(units=2)], [note(minutes=15)], [plan()])
    raw, runs, _ = run_rules(c, n, p, profiles=PROFILES, mue=mue_table(), rules=rules)
    assert runs["UNITS-MUE"].status == FAILED
    assert type(exc).__name__ in (runs["UNITS-MUE"].error or "")
    assert str(exc) not in (runs["UNITS-MUE"].error or "")  # a message may quote a cell value
    assert runs["UNITS-8MIN"].status == FINDINGS  # 15 minutes support 1 of 2 units
    assert set(raw["rule_id"]) == {"UNITS-8MIN"}


class PanicsWhenStreaming:
    """A rule frame that the streaming engine cannot collect (polars 2.1 panicked on some)."""

    def __init__(self, frame: pl.LazyFrame) -> None:
        self.frame, self.engines = frame, []

    def collect(self, *, engine: str) -> pl.DataFrame:
        self.engines.append(engine)
        if engine == "streaming":
            raise PanicException("assertion failed in a string kernel")
        return self.frame.collect(engine=engine)


def test_a_streaming_panic_is_retried_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "STREAMING_FROM_LINES", 0)  # one line: streams all the same
    rules = all_rules()
    seen: list[PanicsWhenStreaming] = []
    real = rules["UNITS-8MIN"].func

    def func(data, **params):
        seen.append(PanicsWhenStreaming(real(data, **params)))
        return seen[-1]

    rules = {"UNITS-8MIN": replace(rules["UNITS-8MIN"], func=func)}
    c, n, p = frames([claim(units=2)], [note(minutes=15)], [plan()])
    raw, runs, _ = run_rules(c, n, p, profiles=PROFILES, mue=mue_table(), rules=rules)
    assert runs["UNITS-8MIN"].status == FINDINGS
    assert raw.height == 1
    assert [s.engines for s in seen] == [["streaming", "in-memory"]]


def test_payer_type_picks_the_profile_and_statuses() -> None:
    # 7 minutes, 1 unit: CMS pools nothing else, AMA per code: both flag; other payer → commercial
    claims = [
        claim("C1", payer="medicare", patient="P1"),
        claim("C2", payer="other", patient="P2"),
    ]
    notes = [note("N1", patient="P1", minutes=7), note("N2", patient="P2", minutes=7)]
    plans = [plan(patient="P1"), plan("POC2", patient="P2")]
    _, runs, by_profile = run_rules(
        *frames(claims, notes, plans), profiles=PROFILES, mue=mue_table()
    )
    assert by_profile == {"medicare": 1, "medicaid": 0, "commercial": 1}
    assert sorted(runs["UNITS-8MIN"].profiles) == ["commercial", "medicare"]
    assert runs["UNITS-8MIN"].status == FINDINGS
    assert runs["POC-MISSING"].status == PASSED
    # no per-session line at all: not applicable rather than passed (DQD statuses)
    assert runs["UNITS-SESSION-MIN"].status == NOT_APPLICABLE
    assert {r.status for r in runs.values()} <= {PASSED, FINDINGS, NOT_APPLICABLE}


def test_severity_is_filled_from_each_lines_profile() -> None:
    # the same finding (unsigned plan) under two profiles whose POC-UNSIGNED severity differs
    medicaid = PROFILES["medicaid"]
    rules = dict(medicaid.rules)
    rules["POC-UNSIGNED"] = replace(rules["POC-UNSIGNED"], severity="warning")
    profiles = {**PROFILES, "medicaid": replace(medicaid, rules=rules)}
    claims = [claim("C1", payer="medicare"), claim("C2", payer="medicaid", patient="P2")]
    notes = [note("N1"), note("N2", patient="P2")]
    plans = [plan(signed=None), plan("POC2", patient="P2", signed=None)]
    raw, _, _ = run_rules(*frames(claims, notes, plans), profiles=profiles, mue=mue_table())
    got = raw.filter(pl.col("rule_id") == "POC-UNSIGNED").sort("claim_id")
    assert got["severity"].to_list() == ["error", "warning"]


def test_money_and_finding_ids() -> None:
    claims = [
        claim("C1", units=3, paid=90.0),  # 20 minutes support 1 → excess 2 × 30.00
        claim("C2", patient="P2", units=1, paid=None, code="97530"),  # no note, fee schedule
        claim("C3", patient="P3", units=1, paid=None, code="97999"),  # no note, no rate
    ]
    notes = [note("N1", minutes=20, end="09:20")]
    plans = [plan(), plan("POC2", patient="P2"), plan("POC3", patient="P3")]
    c, n, p = frames(claims, notes, plans)
    raw, _, _ = run_rules(c, n, p, profiles=PROFILES, mue=mue_table())
    out = assemble(raw, c, fee_schedule())
    money = {(r["finding_id"]): r["amount_at_risk"] for r in out.to_dicts()}
    assert money["UNITS-8MIN:C1:1"] == 60.0
    assert money["DOC-NO-NOTE:C2:1"] == 36.20  # 2026 fee schedule rate for 97530
    assert money["DOC-NO-NOTE:C3:1"] == 0.0
    evidence = out.filter(pl.col("finding_id") == "DOC-NO-NOTE:C3:1")["evidence"][0]
    assert "no fee-schedule rate" in evidence
    assert out["finding_id"].is_unique().all()


def test_assemble_takes_only_flagged_lines_in_findings_order() -> None:
    """The claims lookup goes by claim id: the unflagged lines of a flagged claim
    must not leak in, a line missing from the claims keeps its finding, and rule rows in any
    order come out in FINDINGS_ORDER."""
    claims = pl.LazyFrame(
        [claim("C2", 1, units=2, paid=50.0), claim("C2", 2, units=4, paid=80.0, code="97530"),
         claim("C1", 1, units=1, paid=None, code="97530"), claim("C9", 1, paid=10.0)],
        schema=CLAIM_SCHEMA,
    )  # fmt: skip
    raw = pl.DataFrame(
        {
            "claim_id": ["C2", "C1", "C2", "C2", "C7"],
            "line_number": [2, 1, 2, 2, 1],
            "supported_units": [1, None, None, 3, None],
            "excess_units": [3, None, None, 1, None],
            "message": ["m"] * 5,
            "evidence": ["e1", "e2", None, "e4", "e5"],
            "severity": ["error", "warning", "error", "error", "info"],
            "rule_id": ["UNITS-8MIN", "DOC-NO-NOTE", "POC-MISSING", "UNITS-MUE", "DOC-NO-NOTE"],
        }
    )
    out = assemble(raw, claims, fee_schedule())
    assert out.schema == pl.Schema(FINDINGS_SCHEMA)
    assert out["finding_id"].to_list() == [
        "DOC-NO-NOTE:C1:1", "POC-MISSING:C2:2", "UNITS-8MIN:C2:2", "UNITS-MUE:C2:2",
        "DOC-NO-NOTE:C7:1",
    ]  # fmt: skip
    assert out["billed_units"].to_list() == [1, 4, 4, 4, None]
    assert out["procedure_code"].to_list() == ["97530"] * 4 + [None]
    # whole line 80.00; 3 and 1 excess units of 20.00; the fee schedule for C1; C7 risks 0
    assert out["amount_at_risk"].to_list() == [36.2, 80.0, 60.0, 20.0, 0.0]
    assert out["evidence"].to_list()[1:] == [
        "",
        "e1",
        "e4",
        "e5; amount: no paid amount and no fee-schedule rate",
    ]
    assert out["evidence"][0].startswith("e2; amount: fee schedule 2026 rate 36.2")


def test_both_engines_give_the_same_rule_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small inputs collect the rules in memory, large ones streaming (STREAMING_FROM_LINES):
    the choice may change the speed, never a finding."""
    generate(3000, 21, tmp_path)
    c, n, p = (pl.read_parquet(tmp_path / f"{e}.parquet").lazy() for e in EXPORTS)
    raws = []
    for threshold in (0, 10**12):
        monkeypatch.setattr(engine, "STREAMING_FROM_LINES", threshold)
        raw, runs, _ = run_rules(c, n, p, profiles=PROFILES, mue=mue_table())
        assert {r.status for r in runs.values()} <= {FINDINGS, PASSED, NOT_APPLICABLE}
        raws.append(raw.sort(pl.all()))
    assert raws[0].height > 100
    assert raws[0].equals(raws[1])


def test_frames_in_many_chunks_with_note_text_give_the_same_rule_rows(tmp_path: Path) -> None:
    """Frames straight from Parquet row groups (many chunks, the notes' text still there) are
    audited exactly as the runners' validated single-chunk frames are."""
    generate(2000, 22, tmp_path)
    read = {e: pl.read_parquet(tmp_path / f"{e}.parquet") for e in ("claims", "notes", "plans")}

    def chunked(df: pl.DataFrame) -> pl.DataFrame:
        step = max(df.height // 7, 1)
        return pl.concat([df.slice(i, step) for i in range(0, df.height, step)], rechunk=False)

    plain = [read["claims"], read["notes"].drop("note_text"), read["plans"]]
    pieces = [chunked(df) for df in read.values()]
    assert pieces[0].n_chunks() > 1 and "note_text" in pieces[1].columns
    outs = [
        run_rules(*(df.lazy() for df in frames_), profiles=PROFILES, mue=mue_table())[0]
        for frames_ in (plain, pieces)
    ]
    assert outs[0].height > 50
    assert outs[0].sort(pl.all()).equals(outs[1].sort(pl.all()))


@pytest.mark.parametrize(
    ("side_by_side", "polars_engine", "parties", "meet"),
    [
        (True, "in-memory", 3, True),  # as many at once as there are cores
        (True, "streaming", 2, True),
        (True, "streaming", 3, False),  # at most STREAMING_AT_ONCE
        (False, "streaming", 2, False),
        (False, "in-memory", 2, False),
    ],
)
def test_rules_run_side_by_side_below_the_threshold_and_one_at_a_time_from_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    side_by_side: bool,
    polars_engine: str,
    parties: int,
    meet: bool,
) -> None:
    """Below ONE_AT_A_TIME_FROM_LINES the rules run side by side (on the streaming engine at
    most STREAMING_AT_ONCE at a time), keeping every shared frame to the end; from it one runs
    at a time, and a family's shared frames are dropped before the next family starts. Either
    way the rule rows are the same."""
    generate(1500, 23, tmp_path)
    c, n, p = (pl.read_parquet(tmp_path / f"{e}.parquet").lazy() for e in EXPORTS)
    baseline, _, _ = run_rules(c, n, p, profiles=PROFILES, mue=mue_table())
    monkeypatch.setattr(engine.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(engine, "ONE_AT_A_TIME_FROM_LINES", 10**12 if side_by_side else 0)
    streaming = polars_engine == "streaming"
    monkeypatch.setattr(engine, "STREAMING_FROM_LINES", 0 if streaming else 10**12)
    # the first `parties` rule calls wait for each other: they meet only when that many run at
    # once (a wait that should end at once may take long on a busy machine; one that should
    # fail waits out its timeout)
    meeting = threading.Barrier(parties, timeout=30 if meet else 1)
    lock = threading.Lock()
    met: list[bool] = []
    engines: set[str] = set()
    clears: list[int] = []
    real_call, real_clear = engine._call, Shared.clear

    def call(rule, data, params, used_engine):
        with lock:
            engines.add(used_engine)
            waits = len(met) < parties
            if waits:
                met.append(False)
                slot = len(met) - 1
        if waits:
            try:
                meeting.wait()
                met[slot] = True
            except threading.BrokenBarrierError:
                pass
        return real_call(rule, data, params, used_engine)

    def clear(self: Shared) -> None:
        clears.append(1)
        real_clear(self)

    monkeypatch.setattr(engine, "_call", call)
    monkeypatch.setattr(Shared, "clear", clear)
    raw, runs, _ = run_rules(c, n, p, profiles=PROFILES, mue=mue_table())
    assert {r.status for r in runs.values()} <= {FINDINGS, PASSED, NOT_APPLICABLE}
    assert engines == {polars_engine}
    assert met == [meet] * parties
    families = {all_rules()[k].family for k, r in runs.items() if r.profiles}
    # once per family and code sets in use (the shipped profiles may share their code sets)
    assert len(clears) == 0 if side_by_side else len(clears) >= len(families) > 1
    assert baseline.height > 50
    assert raw.sort(pl.all()).equals(baseline.sort(pl.all()))
