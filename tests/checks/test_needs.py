"""The engine's optional inputs (checks/needs.py): a rule whose `needs` are not met is "not
applicable" with a reason that reaches summary.json; a missing column is an all-blank one; the
reason survives the merge of several passes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import polars as pl
import pytest

from checks.declare import rule
from checks.engine import FINDINGS, NOT_APPLICABLE, PASSED, RuleRun, run_rules
from checks.merge import merge_runs
from checks.needs import providers_frame, reason_for, unmet_needs, with_optional
from checks.profile import Profile
from checks.reference import Reference
from tests.support.rulekit import (
    CLAIM_SCHEMA,
    NOTE_SCHEMA,
    PLAN_SCHEMA,
    REFERENCE,
    claim,
    load_profile,
    mue_table,
    note,
    provider,
)

PROFILES = ("medicare", "medicaid", "commercial")


def run_with(
    claims: list[dict[str, Any]],
    notes: list[dict[str, Any]] | None = None,
    *,
    providers: pl.DataFrame | None = None,
    reference: Reference = REFERENCE,
    drop: tuple[str, ...] = (),
    enable: tuple[str, ...] = (),
) -> dict[str, RuleRun]:
    """Every rule through the engine over frames built here (`drop`: columns to leave out;
    `enable`: rules to turn on in every profile)."""
    claims_lf = pl.LazyFrame(claims, schema=CLAIM_SCHEMA)
    notes_lf = pl.LazyFrame(notes or [], schema=NOTE_SCHEMA)
    claims_lf = claims_lf.drop([c for c in drop if c in CLAIM_SCHEMA])
    notes_lf = notes_lf.drop([c for c in drop if c in NOTE_SCHEMA])
    _, runs, _ = run_rules(
        claims_lf,
        notes_lf,
        pl.LazyFrame([], schema=PLAN_SCHEMA),
        profiles={n: _enabled(load_profile(n), enable) for n in PROFILES},
        mue=mue_table(),
        providers=None if providers is None else providers.lazy(),
        reference=reference,
    )
    return runs


def _enabled(profile: Profile, rule_ids: tuple[str, ...]) -> Profile:
    rules = {k: replace(v, enabled=True) if k in rule_ids else v for k, v in profile.rules.items()}
    return replace(profile, rules=rules)


def test_unmet_needs_name_the_missing_input() -> None:
    frames = {
        "claims": pl.DataFrame({"allowed_amount": [None]}, schema={"allowed_amount": pl.Float64}),
        "notes": pl.DataFrame({"note_type": ["daily"]}),
        "plans": pl.DataFrame(),
    }
    tokens = ["providers", "claims.allowed_amount", "notes.note_type", "notes.signed_at"]
    unmet = unmet_needs(tokens, frames=frames, providers=None, reference=Reference())
    assert unmet == {
        "providers": "no providers export given",
        "claims.allowed_amount": "the claim lines have no allowed_amount values",
        "notes.signed_at": "the notes have no signed_at values",
    }
    empty = pl.DataFrame(schema={"npi": pl.String})
    assert unmet_needs(["providers"], frames=frames, providers=empty, reference=Reference()) == {
        "providers": "the providers export has no rows"
    }
    assert reason_for(["notes.note_type", "providers"], unmet) == "no providers export given"
    assert reason_for(["notes.note_type"], unmet) is None


def test_a_missing_column_is_an_all_blank_one() -> None:
    """The same reason whether the export lacks the column or leaves it blank everywhere, and
    a rule may read it either way."""
    c, n = [claim()], [note()]
    absent = run_with(
        c, n, drop=("note_type", "signed_at", "allowed_amount"), enable=("KX-MISSING",)
    )
    blank = run_with(c, n)
    for rule_id in ("PROGRESS-REPORT-LATE", "DOC-NOTE-UNSIGNED"):
        assert absent[rule_id].status == blank[rule_id].status == NOT_APPLICABLE
        assert absent[rule_id].reason == blank[rule_id].reason
    assert absent["PROGRESS-REPORT-LATE"].reason == "the notes have no note_type values"
    assert absent["KX-MISSING"].status == PASSED  # reads allowed_amount as blank
    lf = with_optional(pl.LazyFrame({"a": [1]}), "notes")
    assert lf.collect_schema()["note_type"] == pl.String()


def test_providers_given_make_the_rule_run() -> None:
    c = [claim(mods="GP")]
    without = run_with(c, [note()])
    assert without["ASSISTANT-MOD-MISSING"].status == NOT_APPLICABLE
    assert without["ASSISTANT-MOD-MISSING"].reason == "no providers export given"
    pta = pl.DataFrame([provider(role="pta")])
    given = run_with(c, [note()], providers=pta)
    assert given["ASSISTANT-MOD-MISSING"].status == FINDINGS
    assert given["ASSISTANT-MOD-MISSING"].reason is None


def test_providers_frame_normalises_roles_and_fills_columns() -> None:
    out = providers_frame(pl.DataFrame({"npi": ["1"], "role": [" pta "]}))
    assert out is not None
    row = out.collect().row(0, named=True)
    assert row["role"] == "PTA" and row["discipline"] is None and row["supervising_npi"] is None


def test_idle_reasons() -> None:
    """A rule off in every profile with lines, or with no line of its codes, says why."""
    runs = run_with([claim(payer="commercial", mods=None)], [note()])
    assert runs["KX-MISSING"].reason == "not enabled in the profiles in use"
    assert runs["UNITS-SESSION-MIN"].reason == "no billed line of the codes it checks"
    assert runs["DOC-NO-NOTE"].reason is None


def test_merge_keeps_the_input_reason() -> None:
    idle = RuleRun("X", reason="no claim line to audit")
    needs = RuleRun("X", reason="no providers export given")
    assert merge_runs("X", [idle, needs]).reason == "no providers export given"
    ran = RuleRun("X", status=PASSED, profiles=["medicare"])
    merged = merge_runs("X", [idle, ran])
    assert merged.status == PASSED and merged.reason is None


def test_needs_tokens_are_checked_at_declaration() -> None:
    with pytest.raises(ValueError, match="unknown need"):
        rule("ZZ-X", title="t", severity="error", citation="c", needs=("note_type",))


def test_an_export_not_given_leaves_its_rules_not_applicable_for_that_reason() -> None:
    frames = {
        "claims": pl.LazyFrame([claim()], schema=CLAIM_SCHEMA),
        "notes": pl.LazyFrame([], schema=NOTE_SCHEMA),
        "plans": pl.LazyFrame([], schema=PLAN_SCHEMA),
    }
    tokens = ("notes", "plans", "notes.note_type", "claims.allowed_amount")
    unmet = unmet_needs(
        tokens, frames=frames, providers=None, reference=REFERENCE, absent=("notes", "plans")
    )
    assert unmet["notes"] == unmet["notes.note_type"] == "no notes export given"
    assert unmet["plans"] == "no plans export given"
    # given (even without rows: the export is there) the export need is met; its columns judge
    given = unmet_needs(tokens, frames=frames, providers=None, reference=REFERENCE)
    assert "notes" not in given and "plans" not in given
    assert given["notes.note_type"] == "the notes have no note_type values"


def test_the_engine_reports_the_absent_exports() -> None:
    lines = [claim(code="97110", units=2)]
    _, runs, _ = run_rules(
        pl.LazyFrame(lines, schema=CLAIM_SCHEMA),
        pl.LazyFrame([], schema=NOTE_SCHEMA),
        pl.LazyFrame([], schema=PLAN_SCHEMA),
        profiles={n: load_profile(n) for n in PROFILES},
        mue=mue_table(),
        reference=REFERENCE,
        absent=("notes", "plans"),
    )
    assert runs["DOC-NO-NOTE"].status == NOT_APPLICABLE
    assert runs["DOC-NO-NOTE"].reason == "no notes export given"
    assert runs["POC-MISSING"].reason == "no plans export given"
    assert runs["UNITS-MUE"].status == PASSED
