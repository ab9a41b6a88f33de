"""What changed since the previous run (checks/history.py): new / persisting / resolved as a
truth table over finding ids, the order and values of the status rows, and a run's totals."""

from __future__ import annotations

import polars as pl
import pytest

from checks.history import COLUMNS, HistoryDiff, finding_statuses, run_totals

SCHEMA = {"finding_id": pl.String, "rule_id": pl.String, "severity": pl.String,
          "amount_at_risk": pl.Float64, "claim_id": pl.String, "line_number": pl.Int64}  # fmt: skip


def findings(*rows: tuple[str, float]) -> pl.DataFrame:
    """Findings with ids like 'UNITS-8MIN:C1:1' and their amounts."""
    out = []
    for fid, amount in rows:
        rule, claim, line = fid.split(":")
        out.append((fid, rule, "error", amount, claim, int(line)))
    return pl.DataFrame(out, schema=SCHEMA, orient="row")


A, B, C = "UNITS-8MIN:C1:1", "DOC-NO-NOTE:C2:1", "POC-MISSING:C3:2"


@pytest.mark.parametrize(
    ("now", "before", "statuses"),
    [
        ([A], None, {A: "new"}),  # no previous run: everything is new
        ([A], [], {A: "new"}),  # a previous run without findings
        ([A], [A], {A: "persisting"}),
        ([], [A], {A: "resolved"}),
        ([A, B], [B, C], {A: "new", B: "persisting", C: "resolved"}),
        ([], [], {}),
    ],
)
def test_statuses_truth_table(
    now: list[str], before: list[str] | None, statuses: dict[str, str]
) -> None:
    previous = None if before is None else findings(*((f, 1.0) for f in before))
    got = finding_statuses(findings(*((f, 1.0) for f in now)), previous)
    assert dict(got.select("finding_id", "status").iter_rows()) == statuses


@pytest.mark.parametrize(
    ("audited", "statuses"),
    [
        # last month's finding C3:2 is on a line this month's audit period does not hold: it was
        # not looked at, so it is neither resolved nor persisting (left out)
        ([("C1", 1), ("C2", 1)], {A: "new", B: "persisting"}),
        # the line was audited this time and the finding is gone: resolved
        ([("C1", 1), ("C2", 1), ("C3", 2)], {A: "new", B: "persisting", C: "resolved"}),
        # nothing audited (a period holding no line): nothing can be resolved
        ([], {A: "new", B: "persisting"}),
    ],
)
def test_only_audited_lines_can_be_resolved(
    audited: list[tuple[str, int]], statuses: dict[str, str]
) -> None:
    lines = pl.DataFrame(audited, schema={"claim_id": pl.String, "line_number": pl.Int64},
                         orient="row")  # fmt: skip
    got = finding_statuses(findings((A, 1.0), (B, 1.0)), findings((B, 1.0), (C, 1.0)), lines)
    assert dict(got.select("finding_id", "status").iter_rows()) == statuses


@pytest.mark.parametrize(
    ("unchecked", "statuses"),
    [
        # this month's run had no plans export: POC-MISSING did not look at C3:2, so last
        # month's finding is not resolved (left out); DOC-NO-NOTE ran and B persists
        (["POC-MISSING"], {A: "new", B: "persisting"}),
        # DOC-NO-NOTE failed to run: its findings are not compared either way
        (["DOC-NO-NOTE"], {A: "new", B: "persisting", C: "resolved"}),
        ([], {A: "new", B: "persisting", C: "resolved"}),
    ],
)
def test_findings_of_rules_that_did_not_check_are_not_resolved(
    unchecked: list[str], statuses: dict[str, str]
) -> None:
    got = finding_statuses(
        findings((A, 1.0), (B, 1.0)), findings((B, 1.0), (C, 1.0)), unchecked=unchecked
    )
    assert dict(got.select("finding_id", "status").iter_rows()) == statuses


def test_a_claim_id_with_colons_is_matched_to_its_audited_line() -> None:
    odd = "DOC-NO-NOTE:CL:2026:7:3"  # claim "CL:2026:7", line 3
    lines = pl.DataFrame({"claim_id": ["CL:2026:7"], "line_number": [3]})
    row = (odd, "DOC-NO-NOTE", "error", 1.0, "CL:2026:7", 3)
    before = findings((A, 1.0)).vstack(pl.DataFrame([row], schema=SCHEMA, orient="row"))
    got = finding_statuses(findings(), before, lines)
    assert dict(got.select("finding_id", "status").iter_rows()) == {odd: "resolved"}


def test_current_order_then_resolved_by_id_with_their_own_values() -> None:
    now = findings((C, 5.0), (A, 7.0))  # not in id order: kept as given
    before = findings((B, 2.5), ("UNITS-MUE:C0:1", 9.0), (A, 1.0))
    got = finding_statuses(now, before.select(COLUMNS))
    assert got.columns == ["finding_id", "status", "rule_id", "severity", "amount_at_risk"]
    assert got.rows() == [
        (C, "new", "POC-MISSING", "error", 5.0),
        (A, "persisting", "UNITS-8MIN", "error", 7.0),  # the current run's amount
        (B, "resolved", "DOC-NO-NOTE", "error", 2.5),  # the previous run's
        ("UNITS-MUE:C0:1", "resolved", "UNITS-MUE", "error", 9.0),
    ]


def test_diff_ids_counts_and_dict() -> None:
    statuses = finding_statuses(findings((B, 1.0), (A, 1.0)), findings((A, 1.0), (C, 1.0)))
    diff = HistoryDiff("s", "r2", "r1", "2026-02-01T06:00:00+00:00", statuses)
    assert (diff.new, diff.persisting, diff.resolved) == ([B], [A], [C])
    assert diff.counts == {"new": 1, "persisting": 1, "resolved": 1}
    assert diff.to_dict() == {
        "scope": "s", "run_id": "r2", "previous_run_id": "r1",
        "previous_started_at": "2026-02-01T06:00:00+00:00", "counts": diff.counts,
    }  # fmt: skip
    empty = HistoryDiff("s", "r1", None, None, finding_statuses(findings(), None))
    assert empty.counts == {"new": 0, "persisting": 0, "resolved": 0}


def test_run_totals_from_the_summary_or_counted_once_per_line() -> None:
    f = findings((A, 10.0), ("UNITS-MUE:C1:1", 30.0), (B, 5.0))  # two findings on C1 line 1
    summary = {"findings": 3, "lines_with_findings": 9, "amount_at_risk": 99.5}
    assert run_totals(summary, f) == (3, 9, 99.5)
    assert run_totals({}, f) == (3, 2, 35.0)  # C1:1 at its largest amount, 30.00, once
    assert run_totals({"findings": 3, "amount_at_risk": 1.0}, f) == (3, 2, 35.0)
    assert run_totals({}, findings()) == (0, 0, 0.0)
