"""The console summary of an audit run: counts, money and paths, never patient ids or note text."""

from __future__ import annotations

from typing import Any

from reports.formatting import period_sentence, unclassified_sentence
from schemas.contract import ALL_EXPORTS


def _history_line(history: dict[str, Any]) -> str:
    c = history["counts"]
    if history["previous_run_id"] is None:
        return f"first recorded run of scope {history['scope']} ({c['new']} findings, all new)"
    return (
        f"{c['new']} new, {c['persisting']} persisting, {c['resolved']} resolved since run "
        f"{history['previous_run_id']} (scope {history['scope']})"
    )


def _reviews_line(d: dict[str, Any]) -> str:
    line = (
        f"{d['reviewed']['findings']} findings marked from {d['file']} "
        f"({d['accepted-risk']['findings']} accepted risk, {d['corrected']['findings']} "
        f"corrected, {d['false-positive']['findings']} false positive)"
    )
    return line + (f"; {d['stale']} matched no finding" if d["stale"] else "")


def print_audit(outputs: Any) -> None:
    """Print what an AuditOutputs (flows/run/direct.py) holds, for `run` and `demo`."""
    s = outputs.summary
    inputs = s.get("inputs", {})
    if "period" in s:
        print(f"  {period_sentence(s['period'])}")
    for export in ALL_EXPORTS:
        if export in inputs:
            i = inputs[export]
            line = (
                f"  {export + ':':<7} {i['rows_read']} read = {i['rows_accepted']} accepted "
                f"+ {i['rows_quarantined']} quarantined"
            )
            if i.get("rows_filtered"):
                line += f" + {i['rows_filtered']} filtered by the mapping"
            if "rows_outside_period" in i:
                line += (
                    f" (accepted = {i['rows_audited']} audited "
                    f"+ {i['rows_outside_period']} outside the audit period)"
                )
            print(line)
    print(
        f"  audited {s['lines_audited']} lines on {s['claims_audited']} claims: "
        f"{s['findings']} findings on {s['lines_with_findings']} lines, "
        f"${s['amount_at_risk']:,.2f} at risk"
    )
    unclassified = s.get("unclassified_codes")
    if unclassified and unclassified["lines"]:
        print(f"  {unclassified_sentence(unclassified)} (see summary.json)")
    for sev, row in s["by_severity"].items():
        if row["findings"]:
            print(f"    {sev:<8} {row['findings']} findings, ${row['amount_at_risk']:,.2f}")
    failed = [r for r, v in s["by_rule"].items() if v["status"] == "failed to run"]
    if failed:
        print(f"  rules that failed to run: {', '.join(failed)} (see summary.json)")
    if "expectations" in s:
        met = sum(1 for e in s["expectations"] if e["success"])
        print(f"  dataset expectations: {met} of {len(s['expectations'])} met")
    if "history" in s:
        print(f"  history:    {_history_line(s['history'])}")
    if "dispositions" in s:
        print(f"  reviewed:   {_reviews_line(s['dispositions'])}")
    print(f"  findings:   {outputs.findings_csv}")
    if outputs.findings_xlsx is not None:
        print(f"  workbook:   {outputs.findings_xlsx}")
    print(f"  summary:    {outputs.summary_json}")
    if outputs.status_csv is not None:
        print(f"  status:     {outputs.status_csv}")
    print(f"  quarantine: {outputs.validation.quarantine_csv}")
    if outputs.run_json is not None:
        print(f"  run record: {outputs.run_json} ({outputs.mode} mode, run {outputs.run_id})")
    if outputs.redacted:
        print("  patient ids redacted (keyed hash), note text left out")
    if outputs.report_html is not None:
        print(f"report: {outputs.report_html}")
