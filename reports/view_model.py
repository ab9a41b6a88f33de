"""Everything report.html shows, as plain data, built from plain inputs (no I/O, no clock).

Every headline, severity and per-rule number is taken from summary.json as it is, never
recomputed, so the page cannot disagree with the file an auditor is given beside it. Figures the
summary does not carry (by provider, by month, the scorecard) come from reports/metrics.py and
follow the summary's money rule. Numbers are formatted here (reports/formatting.py), once, so
the templates only place text; the raw value travels alongside (data-value) for tests.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from checks.sampling.exposure import Exposure
from reports.charts import chart_groups
from reports.exposure_view import exposure_view
from reports.formatting import (
    describe,
    first_paragraph,
    fmt_int,
    fmt_money,
    fmt_pct,
    paragraphs,
)
from reports.history_view import Changes, finding_marks, history_view, reviews_view
from reports.review_view import review_view
from reports.scope_view import scope
from reports.scorecard import scorecard

DEFAULT_PER_RULE = 200
SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
STATUS_CLASS = {
    "passed": "ok",
    "findings": "warn",
    "not applicable": "muted",
    "failed to run": "fail",
}
# Extra columns when the run has history or reviewer dispositions (marked, never hidden).
MARK_COLUMNS = ("status", "disposition")
# Columns of the embedded findings table, in the order of each JSON row.
EMBED_COLUMNS = (
    "rule_id",
    "severity",
    "claim_id",
    "line_number",
    "patient_id",
    "provider_npi",
    "service_date",
    "procedure_code",
    "billed_units",
    "supported_units",
    "excess_units",
    "amount_at_risk",
    "message",
    "evidence",
)


@dataclass(frozen=True)
class InputFile:
    export: str
    name: str
    rows_read: int
    sha256: str


@dataclass(frozen=True)
class RunInfo:
    """Who, when and on what: the scope block of the report."""

    run_id: str
    run_time: str  # ISO 8601, UTC
    version: str
    profile: str  # how lines got their profile
    inputs: tuple[InputFile, ...] = ()
    # the audit period when the run had one (audit_period), else the dates of service audited
    period: tuple[dt.date, dt.date] | None = None
    # files beside the report that hold the complete findings
    exports: tuple[str, ...] = ("findings.csv", "findings.parquet", "findings.xlsx")
    redacted: bool = False
    mapping: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    # True: `period` is the audit period, which limited the lines audited (checks/period.py)
    audit_period: bool = False
    # (name, address in the Prefect UI) of the flow run that wrote the report; None: direct run
    flow_run: tuple[str, str] | None = None


def _metric(key: str, label: str, value: Any, display: str, note: str = "") -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, "display": display, "note": note}


def headline(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    s = summary
    return [
        _metric("lines_audited", "Lines audited", s["lines_audited"], fmt_int(s["lines_audited"])),
        _metric(
            "claims_audited", "Claims audited", s["claims_audited"], fmt_int(s["claims_audited"])
        ),
        _metric(
            "lines_with_findings",
            "Lines with findings",
            s["lines_with_findings"],
            fmt_int(s["lines_with_findings"]),
        ),
        _metric(
            "line_error_rate",
            "Line error rate",
            s["line_error_rate"],
            fmt_pct(s["line_error_rate"]),
            "lines with findings ÷ lines audited",
        ),
        _metric(
            "amount_at_risk",
            "Amount at risk",
            s["amount_at_risk"],
            fmt_money(s["amount_at_risk"]),
            "each line counted once, at its largest finding",
        ),
        _metric("findings", "Findings", s["findings"], fmt_int(s["findings"])),
    ]


def _totals(row: Mapping[str, Any]) -> dict[str, Any]:
    """A summary row's findings, lines and amount at risk, each with its display form."""
    return {
        "findings": row["findings"],
        "findings_display": fmt_int(row["findings"]),
        "lines": row["lines"],
        "lines_display": fmt_int(row["lines"]),
        "amount_at_risk": row["amount_at_risk"],
        "amount_display": fmt_money(row["amount_at_risk"]),
    }


def severities(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"severity": sev, **_totals(row)} for sev, row in summary["by_severity"].items()]


def actions(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The findings by recommended action (summary.json's by_action); actions no rule declares
    are left out. An older summary without by_action gives none."""
    return [
        {"action": action, "label": row["label"], "rules": ", ".join(row["rules"]), **_totals(row)}
        for action, row in summary.get("by_action", {}).items()
        if row["rules"]
    ]


def rule_rows(
    summary: Mapping[str, Any], catalogue: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    declared = {entry["rule_id"]: entry for entry in catalogue}
    rows = []
    for rule_id, row in summary["by_rule"].items():
        entry = declared.get(rule_id, {})
        rows.append(
            {
                "rule_id": rule_id,
                "title": row["title"],
                "family": row["family"],
                "what": first_paragraph(entry.get("description", "")),
                "citation": entry.get("citation", ""),
                "action": row.get("action", ""),
                "action_label": row.get("action_label", ""),
                "status": row["status"],
                "status_class": STATUS_CLASS.get(row["status"], "muted"),
                "error": row.get("error"),
                # why it is "not applicable" (a missing optional input, no line in scope)
                "reason": row.get("reason"),
                "profiles": ", ".join(row.get("profiles", [])),
                **_totals(row),
            }
        )
    return sorted(rows, key=lambda r: (r["family"], r["rule_id"]))


def embedded(
    findings: pl.DataFrame, per_rule: int, columns: Sequence[str] = EMBED_COLUMNS
) -> pl.DataFrame:
    """At most `per_rule` findings of each rule: its largest amounts at risk, ties in the
    findings' own order (claim, line)."""
    if findings.height == 0:
        return findings.select(columns)
    # ordinal rank breaks ties by order of appearance, i.e. the findings' own order
    rank = pl.col("amount_at_risk").rank("ordinal", descending=True).over("rule_id")
    picked = (
        findings.with_row_index("_order")
        .filter(rank <= per_rule)
        .sort(["amount_at_risk", "_order"], descending=[True, False])
    )
    return picked.select(columns).with_columns(pl.col("service_date").cast(pl.String))


def findings_table(
    summary: Mapping[str, Any],
    findings: pl.DataFrame,
    per_rule: int,
    run: RunInfo,
    changes: Changes | None = None,
    names: Mapping[str, str] | None = None,
    packets: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    # with history or reviews, each row shown also carries its status and disposition (marked,
    # shown): marked once picked, so that the marks join the rows shown, not every finding
    picked = embedded(findings, per_rule, (*EMBED_COLUMNS, "finding_id"))
    marked = finding_marks(picked, changes)
    columns = EMBED_COLUMNS if marked is None else (*EMBED_COLUMNS, *MARK_COLUMNS)
    shown = (picked if marked is None else marked).select(columns)
    counts = dict(shown.group_by("rule_id").len().iter_rows()) if shown.height else {}
    rules = [
        {
            "rule_id": rule_id,
            "title": row["title"],
            "shown": counts.get(rule_id, 0),
            "total": row["findings"],
        }
        for rule_id, row in summary["by_rule"].items()
        if row["findings"]
    ]
    providers = sorted(set(shown["provider_npi"]))
    data: dict[str, Any] = {
        "columns": list(columns),
        "rows": [list(r) for r in shown.iter_rows()],
        "rules": [[r["rule_id"], r["title"]] for r in rules],
        "severities": sorted(set(shown["severity"]), key=lambda s: SEVERITY_RANK.get(s, 9)),
        "providers": providers,
    }
    # rule id -> its recommended action, shown on each finding by the page's script
    data["actions"] = {
        rule_id: row["action_label"]
        for rule_id, row in summary["by_rule"].items()
        if row.get("action_label")
    }
    if names:
        # only the providers of the findings shown; the page's script shows each beside its NPI
        data["names"] = {npi: names[npi] for npi in providers if npi in names}
    if packets:
        # claim id -> its evidence packet (run --packets), for the claims shown
        data["packets"] = {c: packets[c] for c in sorted(set(shown["claim_id"])) if c in packets}
    return {
        "data": data,
        "shown": shown.height,
        "shown_display": fmt_int(shown.height),
        "total": summary["findings"],
        "total_display": fmt_int(summary["findings"]),
        "per_rule": per_rule,
        "complete": shown.height == summary["findings"],
        "truncated_rules": [r for r in rules if r["shown"] < r["total"]],
        "exports": list(run.exports),
        "marked": marked is not None,
    }


def _export_quality(export: str, row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "export": export,
        "rows_read": fmt_int(row["rows_read"]),
        "rows_accepted": fmt_int(row["rows_accepted"]),
        "rows_quarantined": fmt_int(row["rows_quarantined"]),
        "blank_rows_skipped": fmt_int(row.get("blank_rows_skipped", 0)),
        "problems": fmt_int(row["problems"]),
        "reasons": [(reason, fmt_int(n)) for reason, n in row["problems_by_reason"].items()],
        "minutes_derived": row.get("minutes_derived"),
        # problems the mapping made warnings (npi_check = "warn"): counted, the rows accepted
        "warnings": [
            (reason, fmt_int(n)) for reason, n in row.get("warnings_by_reason", {}).items()
        ],
        "rows_filtered": fmt_int(row.get("rows_filtered", 0)) if row.get("rows_filtered") else None,
    }


def quality(validation: Mapping[str, Any] | None, summary: Mapping[str, Any]) -> dict[str, Any]:
    expectations = summary.get("expectations")
    out: dict[str, Any] = {
        "validated": validation is not None,
        "exports": [],
        "quarantined": "0",
        "files": {},
        "expectations": None
        if expectations is None
        else [
            {
                "name": e["name"],
                "export": e["export"],
                "success": bool(e["success"]),
                "description": str(e.get("description") or ""),
                "observed": describe(e.get("observed")),
                "expected": describe(e.get("expected")),
            }
            for e in expectations
        ],
    }
    if validation is not None:
        out["exports"] = [_export_quality(e, r) for e, r in validation["exports"].items()]
        out["quarantined"] = fmt_int(validation["totals"]["rows_quarantined"])
        out["problems"] = fmt_int(validation["totals"]["problems"])
        out["files"] = validation["quarantine"]
    return out


def methodology(catalogue: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{**entry, "paragraphs": paragraphs(entry["description"])} for entry in catalogue]


def build_view(
    summary: Mapping[str, Any],
    findings: pl.DataFrame,
    validation: Mapping[str, Any] | None,
    catalogue: Sequence[Mapping[str, Any]],
    run: RunInfo,
    provider_card: pl.DataFrame | None = None,
    *,
    per_rule: int = DEFAULT_PER_RULE,
    changes: Changes | None = None,
    provider_names: Mapping[str, str] | None = None,
    past_review: pl.DataFrame | None = None,
    exposure: Exposure | None = None,
    packets: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The report's content. `findings` is the run's findings frame (FINDINGS_SCHEMA),
    `validation` validation.json, `catalogue` reports.catalogue.catalogue(...), `provider_card`
    reports.metrics.provider_scorecard(...) (None: the section says it is not available),
    `changes` the history and reviews to show (reports/history_view.py; None: neither),
    `provider_names` NPI -> name from the providers export (None: NPIs only), `past_review`
    checks.rules.threshold.beneficiaries_past_review of the run (None: no list shown), `exposure`
    checks.sampling.exposure.expected_exposure of the run (None: the part is left out),
    `packets` claim id -> its evidence packet's path (None: no packets written)."""
    if per_rule < 1:
        raise ValueError("per_rule must be at least 1")
    return {
        "run": run,
        "scope": scope(run, summary),
        "headline": headline(summary),
        "kpi": {m["key"]: m for m in headline(summary)},
        "severities": severities(summary),
        "actions": actions(summary),
        "exposure": exposure_view(exposure),
        "rules": rule_rows(summary, catalogue),
        "review": review_view(past_review),
        "failed": [r for r, v in summary["by_rule"].items() if v["status"] == "failed to run"],
        "charts": chart_groups(summary, findings, provider_names),
        "scorecard": scorecard(provider_card, provider_names),
        "findings": findings_table(
            summary, findings, per_rule, run, changes, provider_names, packets
        ),
        "history": history_view(summary, changes, run.run_id, run.run_time),
        "reviews": reviews_view(summary, changes),
        "quality": quality(validation, summary),
        "methodology": methodology(catalogue),
    }
