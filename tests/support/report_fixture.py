"""A fixed, small audit for the report tests: rules, profiles, findings, claims and notes, a
validation summary and run metadata that never change (the golden file depends on them).

The rules are declared here rather than taken from checks/ so that editing a rule's docstring
does not churn the golden file; the real catalogue is exercised by the demo-run tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from checks.declare import Param, Rule
from checks.engine import AuditResult, RuleRun
from checks.profile import Profile, build_profile
from checks.summary import build_summary
from reports import metrics
from reports.catalogue import catalogue
from reports.view_model import InputFile, RunInfo, build_view
from schemas.findings import FINDINGS_SCHEMA


def _never_called(data: object, **params: object) -> pl.LazyFrame:
    raise AssertionError("fixture rules are never run")


def make_rule(rule_id: str, family: str, title: str, severity: str = "error", **extra: Any) -> Rule:
    return Rule(
        rule_id=rule_id,
        family=family,
        title=title,
        severity=severity,
        citation=extra.get("citation", f"Manual §{len(rule_id)}"),
        params=extra.get("params", ()),
        func=_never_called,
        description=extra.get("description", f"{title}.\n\nSecond paragraph of {rule_id}."),
        action=extra.get("action", "refund"),
    )


RULES: dict[str, Rule] = {
    r.rule_id: r
    for r in (
        make_rule(
            "UNITS-8MIN",
            "units",
            "Timed units exceed the documented minutes",
            params=(
                Param("method", "cms", "'cms' total time or 'ama'"),
                Param("min_minutes", 8, "fewest minutes that support the first unit"),
            ),
            description="Timed codes billed with more units than the minutes support.\n\n"
            "Uses `method` and `min_minutes`; units below <8> minutes & more are excess.",
        ),
        make_rule(
            "DOC-NO-NOTE", "documentation", "Billed line without a session note", action="review"
        ),
        make_rule(
            "POC-MISSING", "plan_of_care", "No plan of care", severity="warning", action="sign"
        ),
        make_rule("TIME-INVALID", "documentation", "Impossible session times"),
        make_rule("UNITS-MUE", "units", "Units above the MUE", severity="info"),
    )
}


def profiles() -> dict[str, Profile]:
    medicare = {"profile": {"name": "medicare", "payer_types": ["medicare"]}}
    commercial = {
        "profile": {"name": "commercial", "payer_types": ["commercial"]},
        "codes": {"timed": ["97110", "97530"]},
        "rules": {"UNITS-8MIN": {"method": "ama"}, "UNITS-MUE": {"enabled": False}},
    }
    medicare["codes"] = {"timed": ["97110", "97530"]}
    return {
        "commercial": build_profile(commercial, "fixture", RULES),
        "medicare": build_profile(medicare, "fixture", RULES),
    }


def finding(
    rule_id: str,
    severity: str,
    claim: str,
    line: int,
    provider: str,
    day: int,
    amount: float,
    message: str = "",
    evidence: str = "",
    *,
    month: int = 1,
    units: tuple[int, int | None, int | None] = (2, None, None),
    patient: str = "P001",
    code: str = "97110",
) -> dict[str, Any]:
    return {
        "finding_id": f"{rule_id}:{claim}:{line}",
        "rule_id": rule_id,
        "severity": severity,
        "claim_id": claim,
        "line_number": line,
        "patient_id": patient,
        "provider_npi": provider,
        "service_date": dt.date(2026, month, day),
        "procedure_code": code,
        "billed_units": units[0],
        "supported_units": units[1],
        "excess_units": units[2],
        "amount_at_risk": amount,
        "message": message or f"{rule_id} on {claim}/{line}",
        "evidence": evidence or f"notes=N{claim[1:]}; minutes=20",
    }


P1, P2, P3 = "1000000004", "1000000012", "1000000020"


def findings_frame() -> pl.DataFrame:
    rows = [
        finding("UNITS-8MIN", "error", "C001", 1, P1, 5, 60.25, units=(4, 2, 2)),
        finding("DOC-NO-NOTE", "error", "C001", 2, P1, 5, 31.5, evidence="notes=none"),
        finding("POC-MISSING", "warning", "C001", 2, P1, 5, 31.5, evidence="plans=none on file"),
        finding("UNITS-8MIN", "error", "C002", 1, P2, 12, 29.92, units=(3, 2, 1), patient="P002"),
        finding("POC-MISSING", "warning", "C003", 1, P2, 20, 88.0, month=2, patient="P003"),
        finding("DOC-NO-NOTE", "error", "C004", 1, P3, 3, 45.0, month=2, patient="P004"),
    ]
    return pl.DataFrame(rows, schema=FINDINGS_SCHEMA).sort("claim_id", "line_number", "rule_id")


def runs() -> dict[str, RuleRun]:
    both = ["commercial", "medicare"]
    return {
        "UNITS-8MIN": RuleRun("UNITS-8MIN", "findings", 2, both),
        "DOC-NO-NOTE": RuleRun("DOC-NO-NOTE", "findings", 2, both),
        "POC-MISSING": RuleRun("POC-MISSING", "findings", 2, both),
        "TIME-INVALID": RuleRun(
            "TIME-INVALID", "failed to run", 0, [], "ValueError: bad interval (overlap.py:12)"
        ),
        "UNITS-MUE": RuleRun("UNITS-MUE", "not applicable", 0, []),
    }


def claims_frame() -> pl.DataFrame:
    """P1 bills 24 timed units documented by 200 minutes (8.3 a unit: flagged)."""
    rows = []
    for i in range(4):
        rows.append(("C00" + str(i + 1), 1, f"P00{i + 1}", P1, "medicare", 5 + i, "97110", 6))
    rows += [
        ("C010", 1, "P010", P2, "commercial", 12, "97110", 2),
        ("C011", 1, "P011", P2, "commercial", 13, "97530", 2),
        ("C012", 1, "P012", P3, "medicare", 14, "97010", 1),
    ]
    return pl.DataFrame(
        [
            {
                "claim_id": c,
                "line_number": n,
                "patient_id": p,
                "rendering_npi": npi,
                "payer_type": payer,
                "service_date": dt.date(2026, 1, day),
                "procedure_code": code,
                "units": units,
            }
            for c, n, p, npi, payer, day, code, units in rows
        ]
    )


def notes_frame() -> pl.DataFrame:
    claims = claims_frame()
    minutes = {P1: 50, P2: 31, P3: 15}
    return claims.select(
        "patient_id",
        "service_date",
        "procedure_code",
        pl.col("rendering_npi").replace_strict(minutes, return_dtype=pl.Int64).alias("minutes"),
    )


VALIDATION: dict[str, Any] = {
    "mapping": None,
    "totals": {"rows_read": 30, "rows_accepted": 27, "rows_quarantined": 3, "problems": 4},
    "quarantine": {"csv": "quarantine.csv", "parquet": "quarantine.parquet", "problems": 4},
    "exports": {
        export: {
            "input": f"in/{export}.csv",
            "rows_read": 10,
            "rows_accepted": 9,
            "rows_quarantined": 1,
            "blank_rows_skipped": 0,
            "problems": 2 if export == "claims" else 1,
            "problems_by_reason": {"service_date is not a date": 1, "units is required": 1}
            if export == "claims"
            else {"patient_id is required but blank": 1},
            "files": [],
        }
        for export in ("claims", "notes", "plans")
    },
}

RUN = RunInfo(
    run_id="RUN-FIXED",
    run_time="2026-02-01 09:00:00 UTC",
    version="0.0.0-test",
    profile="by payer type (commercial, medicare)",
    inputs=(
        InputFile("claims", "claims.csv", 10, "a" * 64),
        InputFile("notes", "notes.csv", 10, "b" * 64),
        InputFile("plans", "plans.csv", 10, "c" * 64),
    ),
    period=(dt.date(2026, 1, 3), dt.date(2026, 2, 20)),
)


def summary(findings: pl.DataFrame | None = None) -> dict[str, Any]:
    findings = findings_frame() if findings is None else findings
    result = AuditResult(findings, runs(), 40, 25, {"commercial": 15, "medicare": 25})
    out = build_summary(result, RULES)
    out["inputs"] = {
        e: {
            k: VALIDATION["exports"][e][k]
            for k in ("rows_read", "rows_accepted", "rows_quarantined")
        }
        for e in ("claims", "notes", "plans")
    }
    return out


def view(**changes: Any) -> dict[str, Any]:
    """The fixture's view model; keyword arguments replace build_view's inputs."""
    findings = changes.pop("findings", None)
    findings = findings_frame() if findings is None else findings
    args: dict[str, Any] = {"findings": findings, "validation": VALIDATION, "run": RUN}
    args.update(changes)
    if "summary" not in args:
        args["summary"] = summary(findings)
    if "catalogue" not in args:
        args["catalogue"] = catalogue(RULES, profiles())
    if "provider_card" not in args:
        args["provider_card"] = metrics.provider_scorecard(
            claims_frame(),
            notes_frame(),
            findings,
            {"medicare": {"97110", "97530"}, "commercial": {"97110"}},
        )
    return build_view(**args)
