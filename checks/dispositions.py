"""Reviewer dispositions applied to a run's findings: which findings were reviewed, and the money.

Pure: the findings and the reviewed-findings rows in (flows/state/dispositions.py reads and
checks the file), marks and counts out. Findings are marked, never filtered: "what was reviewed
and accepted" stays part of the record.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from checks.summary import line_totals, money

DISPOSITIONS = ("accepted-risk", "corrected", "false-positive")
# one reviewed finding: what the file gives, and what findings_status.csv shows of it
MARK_SCHEMA = pl.Schema(
    {
        "finding_id": pl.String(),
        "disposition": pl.String(),
        "reviewer": pl.String(),
        "reviewed_on": pl.Date(),
        "reason": pl.String(),
    }
)


def stale_dispositions(findings: pl.DataFrame, dispositions: pl.DataFrame) -> pl.DataFrame:
    """Dispositions whose finding_id is not among the current findings (fixed, voided or
    re-numbered claims)."""
    return dispositions.join(findings.select("finding_id"), on="finding_id", how="anti")


def _money(frame: pl.DataFrame) -> dict[str, Any]:
    """Findings and money of a group: each line once, at its largest amount (as summary.json)."""
    amount = line_totals(frame.lazy()).select("amount").collect().item()
    return {"findings": frame.height, "amount_at_risk": money(amount)}


def apply_dispositions(
    findings: pl.DataFrame, dispositions: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Marks for the reviewed current findings, and counts.

    `findings` is the findings contract frame (finding_id, claim_id, line_number and
    amount_at_risk are used); it is not modified or filtered. `dispositions` has MARK_SCHEMA's
    columns, one row per finding_id. marks: those columns for the current findings that have a
    disposition, in findings order. counts:
        {"accepted-risk": {"findings": n, "amount_at_risk": x}, "corrected": {...},
         "false-positive": {...}, "reviewed": {...}, "unreviewed": {...}, "stale": n,
         "by_rule": {rule_id: {"reviewed": n, "unreviewed": n}}, "by_provider": {npi: {...}}}
    with money per group as in summary.json; "stale" counts the dispositions that match no
    current finding (counted, not an error); by_rule and by_provider count findings, every
    rule and provider with a finding, in id order.
    """
    dispositions = dispositions.select(list(MARK_SCHEMA)).cast(MARK_SCHEMA)
    marks = findings.select("finding_id").join(
        dispositions, on="finding_id", how="inner", maintain_order="left"
    )
    # the rule is the finding id's first part; the provider only when the frame has it
    provider = ["provider_npi"] if "provider_npi" in findings.columns else []
    used = findings.select(
        "finding_id",
        pl.col("finding_id").str.extract(r"^([^:]+)").alias("rule_id"),
        *provider,
        "claim_id",
        "line_number",
        "amount_at_risk",
    ).join(
        dispositions.select("finding_id", "disposition"),
        on="finding_id",
        how="left",
        maintain_order="left",
    )
    counts: dict[str, Any] = {
        kind: _money(used.filter(pl.col("disposition") == kind)) for kind in DISPOSITIONS
    }
    counts["reviewed"] = _money(used.filter(pl.col("disposition").is_not_null()))
    counts["unreviewed"] = _money(used.filter(pl.col("disposition").is_null()))
    counts["stale"] = stale_dispositions(findings, dispositions).height
    counts["by_rule"] = _review_counts(used, "rule_id")
    counts["by_provider"] = _review_counts(used, "provider_npi") if provider else {}
    return marks, counts


def _review_counts(used: pl.DataFrame, by: str) -> dict[str, dict[str, int]]:
    """Reviewed and unreviewed findings per value of `by`, in value order."""
    reviewed = pl.col("disposition").is_not_null()
    per = (
        used.group_by(by)
        .agg(reviewed.sum().alias("reviewed"), (~reviewed).sum().alias("unreviewed"))
        .sort(by, nulls_last=True)
    )
    return {
        str(r[by]): {"reviewed": int(r["reviewed"]), "unreviewed": int(r["unreviewed"])}
        for r in per.iter_rows(named=True)
    }
