"""The report's scope section as a view model: period, input files, rows per export, which
evidence the audit had (a claims-only audit has no notes or plans), the rows a mapping's filter
set aside and the lines with codes no profile classifies (all from summary.json and the run)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reports.formatting import fmt_int, period_sentence, unclassified_sentence

if TYPE_CHECKING:
    from reports.view_model import RunInfo


def audit_period(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """The audit period that limited the lines audited (summary.json `period`), or None."""
    period = summary.get("period")
    if period is None:
        return None
    return {
        "start": period["start"],
        "end": period["end"],
        "lines_outside": period["lines_outside_period"],
        "lines_outside_display": fmt_int(period["lines_outside_period"]),
        "empty": not period["lines_audited"],
        "sentence": period_sentence(period),
    }


_EVIDENCE = {
    "claims": "claim lines",
    "notes": "session notes",
    "plans": "plans of care",
    "providers": "the providers export",
}


def _listed(words: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return " and ".join(filter(None, (", ".join(words[:-1]), words[-1])))


def evidence(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """Which exports the audit had (summary.json `evidence`), in words; None when not recorded."""
    given = summary.get("evidence")
    if given is None:
        return None
    return {
        "given": [_EVIDENCE[e] for e, was in given.items() if was],
        "missing": [_EVIDENCE[e] for e, was in given.items() if not was],
        "claims_only": not given.get("notes") and not given.get("plans"),
        # what an audit period reads as context beyond the lines it audits
        "context": _listed(
            [
                *(["notes"] if given.get("notes") else []),
                *(["plans of care"] if given.get("plans") else []),
                "the claim lines outside it",
            ]
        ),
        "plans": bool(given.get("plans")),
    }


def unclassified(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """summary.json `unclassified_codes` for the report, None when every line's code is known."""
    found = summary.get("unclassified_codes")
    if not found or not found["lines"]:
        return None
    return {
        "lines": fmt_int(found["lines"]),
        "codes": fmt_int(found["codes"]),
        "top": [
            f"{row['code']} ({fmt_int(row['lines'])} line{'s' if row['lines'] != 1 else ''})"
            for row in found["top"]
        ],
        "more": found["codes"] > len(found["top"]),
        "audited_by": found.get("audited_by", []),
        "sentence": unclassified_sentence(found),
    }


def scope(run: RunInfo, summary: Mapping[str, Any]) -> dict[str, Any]:
    counts = summary.get("inputs", {})
    return {
        "evidence": evidence(summary),
        "unclassified": unclassified(summary),
        "period": None if run.period is None else [d.isoformat() for d in run.period],
        "audit_period": audit_period(summary),
        "inputs": [
            {
                "export": f.export,
                "name": f.name,
                "rows_read": fmt_int(f.rows_read),
                "sha256": f.sha256,
            }
            for f in run.inputs
        ],
        "exports": [
            {
                "export": export,
                "rows_read": fmt_int(row["rows_read"]),
                "rows_accepted": fmt_int(row["rows_accepted"]),
                "rows_quarantined": fmt_int(row["rows_quarantined"]),
                # claims of a run with an audit period: accepted = audited + outside the period
                "rows_audited": fmt_int(row.get("rows_audited", row["rows_accepted"])),
                "rows_outside_period": fmt_int(row.get("rows_outside_period", 0)),
                "rows_filtered": fmt_int(row.get("rows_filtered", 0)),
                "filtered": bool(row.get("rows_filtered")),
            }
            for export, row in counts.items()
        ],
        "profiles": [
            {"name": name, "lines": fmt_int(n)}
            for name, n in summary.get("lines_by_profile", {}).items()
        ],
    }
