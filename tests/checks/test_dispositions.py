"""Reviewer dispositions applied to findings (checks/dispositions.py): marks in findings order,
the findings untouched, money per group each line once at its largest amount, stale rows."""

from __future__ import annotations

from datetime import date

import polars as pl

from checks.dispositions import MARK_SCHEMA, apply_dispositions, stale_dispositions

FINDINGS = pl.DataFrame(
    {
        "finding_id": ["UNITS-8MIN:C1:1", "DOC-NO-NOTE:C1:1", "POC-MISSING:C2:1", "UNITS-MUE:C3:1"],
        "claim_id": ["C1", "C1", "C2", "C3"],
        "line_number": [1, 1, 1, 1],
        "amount_at_risk": [10.0, 30.0, 5.0, 2.25],
    }
)


def reviewed(*rows: tuple[str, str]) -> pl.DataFrame:
    """Dispositions (finding_id, disposition) by one reviewer on one day."""
    return pl.DataFrame(
        [(fid, kind, "ann", date(2026, 2, 1), None) for fid, kind in rows],
        schema=MARK_SCHEMA,
        orient="row",
    )


def test_marks_follow_the_findings_and_leave_them_alone() -> None:
    before = FINDINGS.clone()
    marks, _ = apply_dispositions(
        FINDINGS, reviewed(("POC-MISSING:C2:1", "corrected"), ("UNITS-8MIN:C1:1", "corrected"))
    )
    assert FINDINGS.equals(before)
    assert marks.schema == MARK_SCHEMA
    assert marks["finding_id"].to_list() == ["UNITS-8MIN:C1:1", "POC-MISSING:C2:1"]


def test_money_per_group_counts_each_line_once_at_its_largest_amount() -> None:
    _, counts = apply_dispositions(
        FINDINGS,
        reviewed(
            ("UNITS-8MIN:C1:1", "accepted-risk"),
            ("DOC-NO-NOTE:C1:1", "corrected"),
            ("POC-MISSING:C2:1", "accepted-risk"),
            ("POC-MISSING:C9:1", "false-positive"),  # no such finding now: stale
        ),
    )
    assert counts == {
        "accepted-risk": {"findings": 2, "amount_at_risk": 15.0},
        "corrected": {"findings": 1, "amount_at_risk": 30.0},
        "false-positive": {"findings": 0, "amount_at_risk": 0.0},
        # C1 line 1 is in two groups above but once here, at 30.00
        "reviewed": {"findings": 3, "amount_at_risk": 35.0},
        "unreviewed": {"findings": 1, "amount_at_risk": 2.25},
        "stale": 1,
        # the rule is the finding id's; no provider column in this frame
        "by_rule": {
            "DOC-NO-NOTE": {"reviewed": 1, "unreviewed": 0},
            "POC-MISSING": {"reviewed": 1, "unreviewed": 0},
            "UNITS-8MIN": {"reviewed": 1, "unreviewed": 0},
            "UNITS-MUE": {"reviewed": 0, "unreviewed": 1},
        },
        "by_provider": {},
    }


def test_reviewed_and_unreviewed_per_provider() -> None:
    npis = pl.Series("provider_npi", ["1111111111", "1111111111", "2222222222", None])
    _, counts = apply_dispositions(
        FINDINGS.with_columns(npis), reviewed(("UNITS-MUE:C3:1", "corrected"))
    )
    assert counts["by_provider"] == {
        "1111111111": {"reviewed": 0, "unreviewed": 2},
        "2222222222": {"reviewed": 0, "unreviewed": 1},
        "None": {"reviewed": 1, "unreviewed": 0},
    }


def test_two_findings_of_one_line_in_one_group() -> None:
    _, counts = apply_dispositions(
        FINDINGS,
        reviewed(("UNITS-8MIN:C1:1", "false-positive"), ("DOC-NO-NOTE:C1:1", "false-positive")),
    )
    assert counts["false-positive"] == {"findings": 2, "amount_at_risk": 30.0}
    assert counts["unreviewed"] == {"findings": 2, "amount_at_risk": 7.25}


def test_no_dispositions() -> None:
    marks, counts = apply_dispositions(FINDINGS, reviewed())
    assert marks.is_empty() and counts["stale"] == 0
    assert counts["reviewed"] == {"findings": 0, "amount_at_risk": 0.0}
    assert counts["unreviewed"] == {"findings": 4, "amount_at_risk": 37.25}


def test_stale_dispositions_are_those_without_a_current_finding() -> None:
    rows = reviewed(("UNITS-8MIN:C1:1", "corrected"), ("UNITS-8MIN:C7:1", "corrected"))
    assert stale_dispositions(FINDINGS, rows)["finding_id"].to_list() == ["UNITS-8MIN:C7:1"]
