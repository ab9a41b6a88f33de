"""The rules stage cut into partitions (flows/scale/partitions.py): every row in exactly one
partition of each cut, and the merged answer (checks/merge.py) equal to one engine pass
(findings, statuses, lines per profile) for any number of partitions, also when notes are
written by another provider than the line's. No Prefect, no Dask (tests/flows/prefect runs
those)."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checks.assemble import assemble
from checks.base import MATCH_KEY
from checks.engine import FAILED, RuleRun, run_rules
from checks.registry import all_rules
from flows.inputs.validate import ValidationSummary, validate_inputs
from flows.run.config import default_profiles, fee_schedule, mue_table
from flows.scale import partitions as pt
from flows.synth.generate import generate
from tests.support.sample import cross_provider

PROFILES = default_profiles()
MUE = mue_table().collect()
PROVIDER_RULES = {"OVERLAP-PROVIDER", "OVERLAP-DAY-CAP"}


def one_pass(claims: pl.DataFrame, notes: pl.DataFrame, plans: pl.DataFrame, rules=None):
    raw, runs, by_profile = run_rules(
        claims.lazy(), notes.lazy(), plans.lazy(), profiles=PROFILES, mue=MUE.lazy(), rules=rules
    )
    return assemble(raw, claims.lazy(), fee_schedule()), runs, by_profile


def statuses(runs: dict[str, RuleRun]) -> dict[str, tuple]:
    return {k: (r.status, r.findings, sorted(r.profiles), r.error) for k, r in runs.items()}


def assert_same_as_one_pass(
    claims: pl.DataFrame, notes: pl.DataFrame, plans: pl.DataFrame, k: int, rules=None
) -> None:
    findings, runs, by_profile = one_pass(claims, notes, plans, rules)
    out = pt.run_rules_partitioned(claims, notes, plans, k, profiles=PROFILES, mue=MUE, rules=rules)
    merged = assemble(out.raw, claims.lazy(), fee_schedule())
    assert merged.equals(findings)
    assert merged.write_csv() == findings.write_csv()
    assert statuses(out.runs) == statuses(runs)
    assert out.lines_by_profile == by_profile


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_every_row_is_in_exactly_one_patient_partition(
    validated_sample: ValidationSummary, k: int
) -> None:
    parts = pt.split_by_patient(
        validated_sample.claims, validated_sample.notes, validated_sample.plans, k
    )
    assert len(parts) == k
    for export in ("claims", "notes", "plans"):
        whole = getattr(validated_sample, export)
        pieces = [getattr(p, export) for p in parts]
        assert sum(piece.height for piece in pieces) == whole.height
        assert pl.concat(pieces).sort(pl.all()).equals(whole.sort(pl.all()))
    # a patient's lines, notes and plans are all in the same partition
    owner = {}
    for p in parts:
        for export in ("claims", "notes", "plans"):
            for patient in getattr(p, export)["patient_id"].unique():
                assert owner.setdefault(patient, p.index) == p.index


def test_providers_meeting_on_a_match_key_form_one_group() -> None:
    # a chain 4-3, 3-2, 2-1 over three keys: the smallest NPI reaches the far end in 3 rounds
    day = pl.date(2026, 3, 2)
    claims = pl.DataFrame(
        {"patient_id": ["P1", "P2", "P3", "P9"], "rendering_npi": ["4", "3", "2", "9"],
         "procedure_code": ["97110"] * 4},
    ).with_columns(service_date=day)  # fmt: skip
    notes = pl.DataFrame(
        {"patient_id": ["P1", "P2", "P3", "P9"], "provider_npi": ["3", "2", "1", "9"],
         "procedure_code": ["97110"] * 4},
    ).with_columns(service_date=day)  # fmt: skip
    groups = pt.provider_groups(claims.lazy(), notes.lazy())
    assert groups.rows() == [("1", "1"), ("2", "1"), ("3", "1"), ("4", "1")]  # 9 is alone


def test_a_provider_partition_holds_every_line_and_note_of_its_match_keys(
    validated_sample: ValidationSummary,
) -> None:
    notes = cross_provider(validated_sample.notes)
    groups = pt.provider_groups(validated_sample.claims.lazy(), notes.lazy())
    # each pair shares a group (the sample's own cross-provider notes, an assistant's note of a
    # therapist's line, make groups of their own besides)
    group = dict(groups.rows())
    npis = sorted(notes["provider_npi"].unique())
    assert group[npis[0]] == group[npis[1]] and group[npis[2]] == group[npis[3]]
    parts = pt.split_by_provider(validated_sample.claims, notes, validated_sample.plans, 3)
    assert sum(p.claims.height for p in parts) == validated_sample.claims.height
    assert sum(p.notes.height for p in parts) == notes.height
    keys = [
        pl.concat([p.claims.select(MATCH_KEY), p.notes.select(MATCH_KEY)]).unique() for p in parts
    ]
    assert pl.concat(keys).is_duplicated().sum() == 0
    for p in parts:  # every provider's lines (rendering) and notes (writer) in one partition
        npis = set(p.claims["rendering_npi"]) | set(p.notes["provider_npi"])
        for q in parts:
            if q is not p:
                assert not npis & (set(q.claims["rendering_npi"]) | set(q.notes["provider_npi"]))


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_partitioned_rules_equal_one_engine_pass(
    validated_sample: ValidationSummary, k: int
) -> None:
    notes = cross_provider(validated_sample.notes)
    findings, _, _ = one_pass(validated_sample.claims, notes, validated_sample.plans)
    # the provider rules have findings here, or the comparison would prove little
    assert set(findings["rule_id"]) >= PROVIDER_RULES
    assert_same_as_one_pass(validated_sample.claims, notes, validated_sample.plans, k)


def test_partitioned_rules_audit_a_period_as_one_engine_pass(
    validated_sample: ValidationSummary,
) -> None:
    """The Dask path applies the audit period where one pass does (the engine's matching): the
    same findings, statuses and lines per profile, for the lines of the period only."""
    v, period = validated_sample, (date(2026, 2, 1), date(2026, 2, 28))
    raw, runs, by_profile = run_rules(v.claims.lazy(), v.notes.lazy(), v.plans.lazy(),
                                      profiles=PROFILES, mue=MUE.lazy(), period=period)  # fmt: skip
    out = pt.run_rules_partitioned(
        v.claims, v.notes, v.plans, 3, profiles=PROFILES, mue=MUE, period=period
    )
    one = assemble(raw, v.claims.lazy(), fee_schedule())
    assert assemble(out.raw, v.claims.lazy(), fee_schedule()).equals(one)
    assert one.height > 0 and one["service_date"].dt.month().unique().to_list() == [2]
    assert statuses(out.runs) == statuses(runs)
    assert out.lines_by_profile == by_profile
    assert sum(by_profile.values()) < v.claims.height


def test_cutting_providers_apart_would_change_the_findings(
    validated_sample: ValidationSummary, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why providers are grouped: with every provider cut on its own, the notes another
    provider wrote go missing from the line's partition and the provider rules differ."""
    notes = cross_provider(validated_sample.notes)
    findings, _, _ = one_pass(validated_sample.claims, notes, validated_sample.plans)
    alone = pl.DataFrame(schema={"npi": pl.String, "group": pl.String})
    monkeypatch.setattr(pt, "provider_groups", lambda claims, notes: alone)
    out = pt.run_rules_partitioned(
        validated_sample.claims, notes, validated_sample.plans, 3, profiles=PROFILES, mue=MUE
    )
    assert not assemble(out.raw, validated_sample.claims.lazy(), fee_schedule()).equals(findings)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    k=st.integers(1, 7),
    swaps=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 5)), max_size=12),
)
def test_any_partitioning_equals_one_engine_pass(
    validated_sample: ValidationSummary, k: int, swaps: list[tuple[int, int]]
) -> None:
    """Notes rewritten to any provider (chains and merges of groups included), any k."""
    npis = sorted(validated_sample.notes["provider_npi"].unique())
    rows = [i % validated_sample.notes.height for i, _ in swaps]
    writers = dict(zip(rows, (npis[j % len(npis)] for _, j in swaps), strict=True))
    notes = validated_sample.notes.with_row_index("_i").with_columns(
        provider_npi=pl.col("_i").replace_strict(writers, default=pl.col("provider_npi"))
    ).drop("_i")  # fmt: skip
    assert_same_as_one_pass(validated_sample.claims, notes, validated_sample.plans, k)


def test_a_rule_failing_in_one_partition_fails_to_run_and_leaves_no_rows(
    validated_sample: ValidationSummary,
) -> None:
    victim = sorted(validated_sample.claims["patient_id"])[0]

    def fails_for_one_patient(data, **params):
        if data.lines.filter(pl.col("patient_id") == victim).collect().height:
            raise ZeroDivisionError("boom")
        return all_rules()["UNITS-MUE"].func(data, **params)

    rules = all_rules()
    rules["UNITS-MUE"] = replace(rules["UNITS-MUE"], func=fails_for_one_patient)
    out = pt.run_rules_partitioned(
        validated_sample.claims,
        validated_sample.notes,
        validated_sample.plans,
        3,
        profiles=PROFILES,
        mue=MUE,
        rules=rules,
    )
    assert out.runs["UNITS-MUE"].status == FAILED
    assert "ZeroDivisionError" in (out.runs["UNITS-MUE"].error or "")
    assert "UNITS-MUE" not in set(out.raw["rule_id"])
    # the other rules are untouched, as in one pass where UNITS-MUE raises
    _, runs, _ = one_pass(
        validated_sample.claims, validated_sample.notes, validated_sample.plans, rules
    )
    assert statuses(out.runs) == statuses(runs)


def test_partitions_without_lines_are_left_out(validated_sample: ValidationSummary) -> None:
    parts = pt.plan_partitions(
        validated_sample.claims, validated_sample.notes, validated_sample.plans, 50
    )
    assert all(p.claims.height for p in parts)
    assert {p.kind for p in parts} == {pt.PATIENT, pt.PROVIDER}
    assert {r for p in parts if p.kind == pt.PROVIDER for r in p.rule_ids} == PROVIDER_RULES
    empty = pt.plan_partitions(
        validated_sample.claims.clear(), validated_sample.notes, validated_sample.plans, 3
    )
    assert [p.name for p in empty] == ["patient-0", "provider-0"]
    with pytest.raises(ValueError):
        pt.plan_partitions(
            validated_sample.claims, validated_sample.notes, validated_sample.plans, 0
        )


def test_no_lines_at_all_gives_one_passes_statuses(validated_sample: ValidationSummary) -> None:
    assert_same_as_one_pass(
        validated_sample.claims.clear(), validated_sample.notes, validated_sample.plans, 3
    )


def test_the_split_is_deterministic(validated_sample: ValidationSummary) -> None:
    a = pt.plan_partitions(
        validated_sample.claims, validated_sample.notes, validated_sample.plans, 3
    )
    b = pt.plan_partitions(
        validated_sample.claims, validated_sample.notes, validated_sample.plans, 3
    )
    assert [(p.name, p.claims.height) for p in a] == [(p.name, p.claims.height) for p in b]
    assert all(p.claims.equals(q.claims) for p, q in zip(a, b, strict=True))


def test_a_partition_arrives_on_a_worker_as_it_left(validated_sample: ValidationSummary) -> None:
    """Partitions pickle as compressed Arrow IPC (what Dask sends): same frames and dtypes."""
    parts = pt.plan_partitions(
        validated_sample.claims, validated_sample.notes, validated_sample.plans, 2
    )
    empty = pt.split_by_patient(
        validated_sample.claims.clear(), validated_sample.notes, validated_sample.plans, 1
    )[0]
    for part in [*parts, empty]:
        back = pickle.loads(pickle.dumps(part))
        assert (back.kind, back.index, back.rule_ids) == (part.kind, part.index, part.rule_ids)
        for export in ("claims", "notes", "plans"):
            sent, got = getattr(part, export), getattr(back, export)
            assert got.schema == sent.schema and got.equals(sent)


def test_partitioned_rules_equal_one_engine_pass_on_a_generated_practice(
    tmp_path: Path,
) -> None:
    """A generated practice: PT and OT billing one code for one patient on one day, notes with
    and without their discipline, unbilled documented services. A note's discipline can come
    from the lines its provider rendered that day (checks/disciplines.py); a provider partition
    holds them, so the partitions still answer as one pass."""
    generate(20_000, 31, tmp_path / "in")
    g = tmp_path / "in"
    v = validate_inputs(g / "claims.parquet", g / "notes.parquet", g / "plans.parquet", tmp_path)
    therapy = pl.col("modifiers").str.extract(r"(G[PON])")
    co_visits = (
        v.claims.group_by(MATCH_KEY).agg(therapy.n_unique().alias("n")).filter(pl.col("n") > 1)
    )
    assert co_visits.height > 0, "the generator made no co-visit: the test would prove little"
    assert v.notes["discipline"].null_count() > 0 and v.notes["discipline"].drop_nulls().len() > 0
    assert_same_as_one_pass(v.claims, v.notes, v.plans, 3)


@pytest.mark.parametrize("k", [1, 3])
def test_a_claims_only_audit_partitions_as_one_engine_pass(
    validated_sample: ValidationSummary, k: int
) -> None:
    """Without notes and plans (empty stand-ins, `absent`) the partitions agree with one pass,
    and every pass calls the rules that need them not applicable for the same reason."""
    claims = validated_sample.claims
    notes, plans = validated_sample.notes.clear(), validated_sample.plans.clear()
    absent = ("notes", "plans")
    raw, runs, by_profile = run_rules(
        claims.lazy(), notes.lazy(), plans.lazy(), profiles=PROFILES, mue=MUE.lazy(), absent=absent
    )
    out = pt.run_rules_partitioned(
        claims, notes, plans, k, profiles=PROFILES, mue=MUE, absent=absent
    )
    findings = assemble(raw, claims.lazy(), fee_schedule())
    assert assemble(out.raw, claims.lazy(), fee_schedule()).equals(findings)
    assert statuses(out.runs) == statuses(runs)
    assert out.lines_by_profile == by_profile
    assert runs["UNITS-8MIN"].reason == out.runs["UNITS-8MIN"].reason == "no notes export given"
    assert out.runs["POC-MISSING"].reason == "no plans export given"
    assert findings.height and runs["UNITS-MUE"].status == "findings"
