"""An evidence packet as plain data: what an officer attaches to a refund or hands to a clinician.

One packet covers one claim, or the claims with findings of one patient or one provider: each
claim's lines with the notes matched to them (times, minutes, signature; never note text, which
no output holds), the patients' plans of care, the findings and the rule text behind them
(citation and the rule in plain words). Built from frames already selected and matched
(flows/outputs/packets.py); no I/O, no clock. Money follows the report's rule: a line counts once,
at its largest finding.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import polars as pl

from reports.formatting import fmt_int, fmt_money, paragraphs

if TYPE_CHECKING:
    from reports.view_model import RunInfo

KINDS = ("claim", "patient", "provider")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def packet_name(kind: str, ident: str) -> str:
    """The packet's file name: readable, safe on every file system whatever the id holds, and
    unique (the hash tells apart ids that read alike once cleaned, such as 'A/1' and 'A_1').
    A patient's packet is named by the hash alone."""
    if kind not in KINDS:
        raise ValueError(f"unknown packet kind {kind!r}")
    digest = hashlib.sha256(f"{kind}\0{ident}".encode()).hexdigest()[:8]
    if kind == "patient":
        return f"patient-{digest}.html"  # a file name is printed and listed: no patient id in it
    return f"{kind}-{_UNSAFE.sub('_', ident).strip('_')[:48] or 'id'}-{digest}.html"


def _text(value: object) -> str:
    return "–" if value is None else str(value)


def _time(value: object) -> str:
    return "–" if value is None else str(value)[:5]


def line_amounts(findings: pl.DataFrame) -> pl.DataFrame:
    """claim_id, line_number, the line's largest amount at risk and its number of findings."""
    return findings.group_by("claim_id", "line_number").agg(
        pl.col("amount_at_risk").max().alias("at_risk"), pl.len().alias("findings")
    )


def top_claims(findings: pl.DataFrame, limit: int) -> list[str]:
    """The `limit` claims with the most money at risk (ties: claim id), for `run --packets`."""
    if findings.height == 0:
        return []
    per_claim = (
        line_amounts(findings)
        .group_by("claim_id")
        .agg(pl.col("at_risk").sum())
        .sort(["at_risk", "claim_id"], descending=[True, False])
        .head(limit)
    )
    return per_claim.get_column("claim_id").to_list()


def _note_rows(notes: pl.DataFrame, names: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "note_id": n["note_id"],
            "provider": n["provider_npi"],
            "provider_name": names.get(n["provider_npi"], ""),
            "date": str(n["service_date"]),
            "code": n["procedure_code"],
            "start": _time(n["start_time"]),
            "end": _time(n["end_time"]),
            "minutes": _text(n["minutes"]),
            "signed": "not signed" if n["signed_at"] is None else str(n["signed_at"])[:16],
            "unsigned": n["signed_at"] is None,
            "type": _text(n.get("note_type")),
            "discipline": _text(n.get("discipline")),
        }
        for n in notes.iter_rows(named=True)
    ]


def _finding_rows(findings: pl.DataFrame) -> list[dict[str, Any]]:
    units = ("billed_units", "supported_units", "excess_units")
    return [
        {
            "rule_id": f["rule_id"],
            "severity": f["severity"],
            "line_number": f["line_number"],
            "units": " / ".join(_text(f[u]) for u in units),
            "amount": fmt_money(f["amount_at_risk"]),
            "message": f["message"],
            "evidence": f["evidence"],
        }
        for f in findings.sort("line_number", "rule_id").iter_rows(named=True)
    ]


def _claim(
    claim_id: str,
    lines: pl.DataFrame,
    notes: pl.DataFrame,
    findings: pl.DataFrame,
    names: Mapping[str, str],
) -> dict[str, Any]:
    first = lines.row(0, named=True)
    at_risk = line_amounts(findings)
    by_line = {(r["line_number"]): r for r in at_risk.iter_rows(named=True)}
    rows = []
    for line in lines.sort("line_number").iter_rows(named=True):
        risk = by_line.get(line["line_number"])
        rows.append(
            {
                "line_number": line["line_number"],
                "date": str(line["service_date"]),
                "code": line["procedure_code"],
                "modifiers": line["modifiers"] or "",
                "units": line["units"],
                "provider": line["rendering_npi"],
                "provider_name": names.get(line["rendering_npi"], ""),
                "charge": fmt_money(line["charge_amount"]),
                "paid": "–" if line["paid_amount"] is None else fmt_money(line["paid_amount"]),
                "documented_minutes": _text(line["note_minutes"]),
                "findings": 0 if risk is None else risk["findings"],
                "at_risk": fmt_money(0 if risk is None else risk["at_risk"]),
                "notes": _note_rows(notes.filter(pl.col("line_id") == line["line_id"]), names),
            }
        )
    amount = float(at_risk.get_column("at_risk").sum()) if at_risk.height else 0.0
    return {
        "claim_id": claim_id,
        "patient_id": str(first["patient_id"]),
        "payer": " ".join(str(p) for p in (first["payer_type"], first["payer_id"]) if p),
        "lines": rows,
        "findings": _finding_rows(findings),
        "amount": amount,
        "amount_display": fmt_money(amount),
    }


def _plan_rows(plans: pl.DataFrame) -> list[dict[str, Any]]:
    return [
        {
            "plan_id": p["plan_id"],
            "patient_id": str(p["patient_id"]),
            "discipline": _text(p["discipline"]),
            "cert": f"{p['cert_start']} to {p['cert_end']}",
            "signed": "not signed" if p["signed_date"] is None else str(p["signed_date"]),
            "unsigned": p["signed_date"] is None,
            "certifier": _text(p["certifying_npi"]),
            "order_signed": _text(p.get("order_signed_date")),
            "sent": _text(p.get("sent_date")),
        }
        for p in plans.sort("patient_id", "cert_start", "plan_id").iter_rows(named=True)
    ]


def _rules(findings: pl.DataFrame, catalogue: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    used = set(findings.get_column("rule_id").to_list())
    return [
        {
            "rule_id": entry["rule_id"],
            "title": entry["title"],
            "citation": entry["citation"],
            "paragraphs": paragraphs(entry["description"]),
        }
        for entry in catalogue
        if entry["rule_id"] in used
    ]


def _heading(kind: str, ident: str, names: Mapping[str, str]) -> str:
    if kind == "provider" and ident in names:
        return f"provider {ident} ({names[ident]})"
    return f"{kind} {ident}"


def build_packet(
    kind: str,
    ident: str,
    lines: pl.DataFrame,
    notes: pl.DataFrame,
    plans: pl.DataFrame,
    findings: pl.DataFrame,
    catalogue: Sequence[Mapping[str, Any]],
    run: RunInfo,
    *,
    names: Mapping[str, str] | None = None,
    note: str = "",
) -> dict[str, Any]:
    """The packet of `kind` ("claim", "patient", "provider") `ident`. `lines`: the claim lines
    it covers, matched (LINE_ID and the notes' summary, checks/matching.py); `notes`: their
    note rows (checks.matching.line_notes); `plans`: the patients' plans; `findings`: the
    findings on those claims (FINDINGS_SCHEMA); `catalogue`: reports.catalogue.catalogue(...);
    `names`: NPI -> provider name; `note`: a sentence on what the packet covers, or ""."""
    if kind not in KINDS:
        raise ValueError(f"unknown packet kind {kind!r}")
    names = names or {}
    claims = []
    for claim_id in sorted(set(lines.get_column("claim_id").to_list())):
        claims.append(
            _claim(
                claim_id,
                lines.filter(pl.col("claim_id") == claim_id),
                notes,
                findings.filter(pl.col("claim_id") == claim_id),
                names,
            )
        )
    claims.sort(key=lambda c: (-c["amount"], c["claim_id"]))
    amount = sum(c["amount"] for c in claims)
    return {
        "kind": kind,
        "ident": ident,
        "title": f"Evidence packet: {_heading(kind, ident, names)}",
        "file": packet_name(kind, ident),
        "run": run,
        "note": note,
        "claims": claims,
        "plans": _plan_rows(plans),
        "rules": _rules(findings, catalogue),
        "totals": {
            "claims": fmt_int(len(claims)),
            "lines": fmt_int(lines.height),
            "findings": fmt_int(findings.height),
            "amount": fmt_money(amount),
        },
    }


def packet_index(
    entries: Sequence[Mapping[str, Any]], run: RunInfo, *, limit: int, claims_with_findings: int
) -> dict[str, Any]:
    """packets/index.html: the packets `run --packets` wrote (file, claim, findings, amount),
    and how many claims with findings were left to `therapy-audit packet` by the limit."""
    return {
        "run": run,
        "entries": list(entries),
        "limit": limit,
        "written": fmt_int(len(entries)),
        "claims_with_findings": fmt_int(claims_with_findings),
        "left_out": fmt_int(max(0, claims_with_findings - len(entries))),
        "complete": len(entries) >= claims_with_findings,
    }
