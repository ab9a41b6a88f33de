"""The one merge of rule results (checks/merge.py): statuses over passes as a truth table, raw
rows of failed rules dropped, lines per profile from a complete cut, for families (each output
its own cut) and partitions (outputs sharing a cut)."""

from __future__ import annotations

import polars as pl
import pytest

from checks.engine import FAILED, FINDINGS, NOT_APPLICABLE, PASSED, RuleRun
from checks.merge import RulesOutput, lines_by_profile, merge_results, merge_runs


def run(
    status: str, findings: int = 0, profiles: tuple[str, ...] = (), error: str | None = None
) -> RuleRun:
    return RuleRun("R", status=status, findings=findings, profiles=list(profiles), error=error)


def raw(*rule_ids: str) -> pl.DataFrame:
    return pl.DataFrame(
        {"rule_id": list(rule_ids), "claim_id": [f"C{i}" for i in range(len(rule_ids))]},
        schema={"rule_id": pl.String, "claim_id": pl.String},
    )


@pytest.mark.parametrize(
    ("statuses", "merged"),
    [
        ((NOT_APPLICABLE,), NOT_APPLICABLE),
        ((PASSED,), PASSED),
        ((NOT_APPLICABLE, NOT_APPLICABLE), NOT_APPLICABLE),
        ((NOT_APPLICABLE, PASSED), PASSED),
        ((PASSED, FINDINGS), FINDINGS),
        ((NOT_APPLICABLE, FINDINGS), FINDINGS),
        ((FINDINGS, FAILED), FAILED),
        ((FAILED, PASSED), FAILED),
        ((FAILED,), FAILED),
    ],
)
def test_status_over_passes(statuses: tuple[str, ...], merged: str) -> None:
    runs = [run(s, 2 if s == FINDINGS else 0, error="E" if s == FAILED else None) for s in statuses]
    assert merge_runs("R", runs).status == merged


def test_merged_run_sums_findings_and_sorts_profiles() -> None:
    merged = merge_runs("R", [run(PASSED, 0, ("medicare",)), run(FINDINGS, 3, ("commercial",))])
    assert (merged.rule_id, merged.status, merged.findings, merged.profiles) == (
        "R", FINDINGS, 3, ["commercial", "medicare"],
    )  # fmt: skip
    failed = merge_runs("R", [run(FINDINGS, 2, ("medicare",)), run(FAILED, error="E: x")])
    assert (failed.status, failed.findings, failed.profiles, failed.error) == (
        FAILED,
        0,
        [],
        "E: x",
    )


@pytest.mark.parametrize(
    ("cut", "total"),
    [
        ([], {}),
        ([{"medicare": 2}], {"medicare": 2}),
        ([{"medicare": 2, "commercial": 0}, {"medicare": 1, "commercial": 4}],
         {"medicare": 3, "commercial": 4}),
        ([{"medicare": 2}, {}], {}),  # a pass that failed: its lines are unknown
    ],
)  # fmt: skip
def test_lines_by_profile_of_a_cut(cut: list[dict[str, int]], total: dict[str, int]) -> None:
    outputs = [RulesOutput(pl.DataFrame(), {}, lines) for lines in cut]
    assert lines_by_profile(outputs) == total


def test_families_each_their_own_cut() -> None:
    """One pass per family: runs side by side, rows concatenated in order, the first known
    lines per profile and provider measures."""
    providers = pl.DataFrame({"provider_npi": ["1"]})
    units = RulesOutput(raw("U1", "U1"), {"U1": run(FINDINGS, 2)}, {"medicare": 5}, providers)
    docs = RulesOutput(pl.DataFrame(), {"D1": run(FAILED, error="KeyError")})
    poc = RulesOutput(raw("P1"), {"P1": run(FINDINGS, 1)}, {"medicare": 5})
    merged = merge_results([docs, units, poc])
    assert list(merged.runs) == ["D1", "U1", "P1"]
    assert {k: r.status for k, r in merged.runs.items()} == {
        "D1": FAILED, "U1": FINDINGS, "P1": FINDINGS,
    }  # fmt: skip
    assert merged.raw["rule_id"].to_list() == ["U1", "U1", "P1"]
    assert merged.lines_by_profile == {"medicare": 5}
    assert merged.providers is providers


def test_partitions_share_a_cut() -> None:
    """Partitions of two cuts: a rule failing in one partition fails and leaves no rows; lines
    per profile add up over the first cut whose partitions all know them."""
    patient = [
        RulesOutput(raw("A", "B"), {"A": run(FINDINGS, 1), "B": run(FINDINGS, 1)}, {"m": 2}),
        RulesOutput(raw("A"), {"A": run(FINDINGS, 1), "B": run(FAILED, error="E")}, {}),
    ]
    provider = [
        RulesOutput(raw("O"), {"O": run(FINDINGS, 1)}, {"m": 1, "c": 0}),
        RulesOutput(pl.DataFrame(), {"O": run(PASSED)}, {"m": 2, "c": 3}),
    ]
    merged = merge_results([*patient, *provider], ["patient"] * 2 + ["provider"] * 2)
    assert {k: (r.status, r.findings) for k, r in merged.runs.items()} == {
        "A": (FINDINGS, 2), "B": (FAILED, 0), "O": (FINDINGS, 1),
    }  # fmt: skip
    assert merged.raw["rule_id"].to_list() == ["A", "A", "O"]
    assert merged.lines_by_profile == {"m": 3, "c": 3}  # the patient cut lost a partition's
    # as families (each its own cut) the first output's lines would have been taken
    assert merge_results([*patient, *provider]).lines_by_profile == {"m": 2}


def test_nothing_to_merge() -> None:
    merged = merge_results([])
    assert merged.raw.is_empty() and merged.runs == {} and merged.lines_by_profile == {}
    with pytest.raises(ValueError):
        merge_results([RulesOutput(pl.DataFrame(), {})], ["a", "b"])
