"""The audit as a Prefect flow: scheduled, retried, observed (and, with a distributed task runner,
spread over a cluster). It only orchestrates: every task calls a plain stage function of
flows/run/stages.py, the same ones the direct mode (flows/run/direct.py) calls, so a flow run and a
direct run write the same findings.csv byte for byte.

    audit_flow
      ├ select-exports (drop-folder runs only: the newest exports, the window's period)
      ├ ingest-claims ┐
      ├ ingest-notes  ├ concurrently
      ├ ingest-plans  ┘
      ├ validate
      ├ expectations  ┐
      ├ rules-units   │
      ├ rules-overlap ├ concurrently: independent tasks, one per rule family
      ├ rules-plan_of_care
      ├ rules-documentation ┘
      │   (with `partitions`: rules-patient-i, rules-provider-i on Dask, flows/scale/cluster.py)
      ├ findings (findings.csv/.parquet, summary.json, findings_status.csv)
      ├ report (report.html, findings.xlsx)
      ├ history (the run in the history database)
      └ run-record (run.json)

Retries with exponential backoff only where a retry can help, on file I/O (ingest, the
drop-folder listing, writing outputs, history) and only for OS errors or a locked history
database: a missing column does not fix itself. A rule family whose task fails leaves its rules
"failed to run" and the audit completes. Every run publishes three artifacts (keys per scope):
a markdown summary, a table of findings per rule and a link to report.html; they carry counts
and rule ids only. Exceptions other than the tool's own InputErrors (whose messages name files
and columns, never values) reach Prefect as their type and location only, never their message:
data libraries quote cell values in messages, and Prefect stores and shows them.

Importing this module imports Prefect (~2.5 s); the direct mode never does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import exponential_backoff

from checks.merge import merge_results
from checks.profile import ProfileError
from checks.registry import families as rule_families
from flows.run import stages
from flows.run.direct import AuditOutputs, outputs
from flows.run.record import new_run_id, timer, write_run_json
from flows.run.settings import RunSettings
from flows.schedule import drop
from flows.state.history import HistoryError
from schemas.contract import EXPORTS
from schemas.errors import InputError

T = TypeVar("T")
FLOW_NAME = "therapy-audit"
IO_RETRIES = 3
IO_BACKOFF = exponential_backoff(backoff_factor=2)  # 2 s, 4 s, 8 s


class StageFailed(RuntimeError):
    """A stage raised something other than an InputError; the text is its type and place."""


def _guard(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return fn(*args, **kwargs)
    except (InputError, ProfileError, OSError):
        raise  # messages name files, keys and columns, never cell values
    except Exception as exc:
        raise StageFailed(f"{fn.__name__}: {stages.describe_failure(exc)}") from None


def _io_error(task: Any, task_run: Any, state: State) -> bool:
    """Retry only what a retry can fix: an OS error or a locked history database."""
    try:
        state.result()
    except (OSError, HistoryError):
        return True
    except BaseException:
        return False
    return False


_IO = {
    "retries": IO_RETRIES,
    "retry_delay_seconds": IO_BACKOFF,
    "retry_jitter_factor": 0.2,
    "retry_condition_fn": _io_error,
}
# Results stay in memory: frames are handed from task to task in this process, never written
# to Prefect's result storage (they hold patient data), and never hashed for a cache key.
_PLAIN = {"cache_policy": NO_CACHE, "persist_result": False}


@task(name="select-exports", **_IO, **_PLAIN)
def select_task(
    inputs: str,
    out: str,
    window: str,
    today: Any,
    run_id: str,
    profile: str | None,
    scope: str | None,
    period: Any,
) -> drop.DropRun:
    return _guard(
        drop.plan_drop_run,
        inputs,
        out,
        window,
        today,
        run_id,
        profile=profile,
        scope=scope,
        period=period,
    )


@task(name="ingest", **_IO, **_PLAIN)
def ingest_task(export: str, path: Path, mapping: Any) -> Any:
    return _guard(stages.ingest, export, path, mapping)


@task(name="validate", **_PLAIN)
def validate_task(raws: dict[str, Any], s: RunSettings) -> Any:
    return _guard(stages.validate, raws, s)


@task(name="expectations", **_PLAIN)
def expectations_task(validation: Any, s: RunSettings) -> tuple[list[dict[str, Any]], float]:
    timings: dict[str, float] = {}
    with timer(timings, "expectations"):
        results = _guard(stages.expectations, validation, s)
    return results, timings["expectations"]


@task(name="rules", **_PLAIN)
def rules_task(validation: Any, family: str, profile: str | None) -> stages.RulesOutput:
    # one task also keeps the scorecard's per-provider measures, from the lines it has matched
    measures = family == rule_families()[0]
    return _guard(stages.run_families, validation, (family,), profile, measures=measures)


@task(name="findings", **_IO, **_PLAIN)
def findings_task(
    validation: Any, rules: stages.RulesOutput, results: Any, s: RunSettings
) -> stages.FindingsOutput:
    return _guard(stages.findings, validation, rules, results, s)


@task(name="report", **_IO, **_PLAIN)
def report_task(s: RunSettings, validation: Any, found: stages.FindingsOutput) -> Any:
    return _guard(stages.report, s, validation, found)


@task(name="history", **_IO, **_PLAIN)
def history_task(s: RunSettings, validation: Any, found: stages.FindingsOutput) -> dict:
    return _guard(stages.record_history, s, validation, found)


@task(name="run-record", **_IO, **_PLAIN)
def run_record_task(s: RunSettings, inputs: dict, timings: dict[str, float]) -> Path:
    ui = flow_run.get_flow_run_ui_url() or ""
    prefect_info = {
        "flow_run_id": flow_run.get_id(),
        "flow_run_name": flow_run.get_name(),
        "api_url": get_current_settings().api.url,  # None: Prefect's temporary server
        "ui_url": ui if ui.startswith("http") else None,
    }
    return write_run_json(
        s.out_dir,
        run_id=s.run_id,
        mode="prefect",
        started_at=s.started_at,
        inputs=inputs,
        options=stages.run_options(s),
        timings=timings,
        stages=stages.STAGES,
        prefect=prefect_info,
    )


def _family_result(family: str, future: Any) -> stages.RulesOutput:
    """The family's rule output, or all its rules "failed to run" when its task failed."""
    value = future.result(raise_on_failure=False)
    if isinstance(value, stages.RulesOutput):
        return value
    text = str(value) if isinstance(value, StageFailed) else type(value).__name__
    return stages.failed_families((family,), f"rule family task failed: {text}")


def _slug(text: str) -> str:
    # artifact keys: lowercase letters, digits and dashes only
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "default"


def summary_markdown(summary: dict[str, Any], run_id: str) -> str:
    """The run in a few lines of markdown: counts, money, rule ids. Never patient data."""
    s = summary
    lines = [
        f"# Therapy billing audit {run_id}",
        "",
        f"- **{s['lines_audited']:,}** claim lines audited on {s['claims_audited']:,} claims",
        f"- **{s['findings']:,}** findings on {s['lines_with_findings']:,} lines "
        f"({s['line_error_rate'] * 100:.2f}%), **${s['amount_at_risk']:,.2f}** at risk",
    ]
    for sev, row in s["by_severity"].items():
        if row["findings"]:
            lines.append(f"  - {sev}: {row['findings']:,} findings, ${row['amount_at_risk']:,.2f}")
    failed = [r for r, v in s["by_rule"].items() if v["status"] == "failed to run"]
    lines.append(f"- rules that failed to run: {', '.join(failed) if failed else 'none'}")
    if "history" in s:
        c, prev = s["history"]["counts"], s["history"]["previous_run_id"]
        since = f"since run {prev}" if prev else "(first run of this scope)"
        lines.append(
            f"- {since}: {c['new']:,} new, {c['persisting']:,} persisting, "
            f"{c['resolved']:,} resolved"
        )
    if "dispositions" in s:
        d = s["dispositions"]
        lines.append(
            f"- reviewed: {d['reviewed']['findings']:,} findings "
            f"({d['accepted-risk']['findings']:,} accepted risk, "
            f"{d['corrected']['findings']:,} corrected, "
            f"{d['false-positive']['findings']:,} false positive)"
        )
    if "expectations" in s:
        met = sum(1 for e in s["expectations"] if e["success"])
        lines.append(f"- dataset expectations met: {met} of {len(s['expectations'])}")
    return "\n".join(lines) + "\n"


def rule_table(summary: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "rule_id": rule_id,
            "family": r["family"],
            "status": r["status"],
            "findings": r["findings"],
            "lines": r["lines"],
            "amount_at_risk": r["amount_at_risk"],
        }
        for rule_id, r in summary["by_rule"].items()
    ]


def publish_artifacts(s: RunSettings, summary: dict[str, Any], report: Path | None) -> None:
    key = _slug(s.scope)
    create_markdown_artifact(
        summary_markdown(summary, s.run_id),
        key=f"audit-summary-{key}",
        description=f"therapy-audit run {s.run_id}",
    )
    create_table_artifact(
        rule_table(summary),
        key=f"audit-findings-by-rule-{key}",
        description=f"Findings per rule, run {s.run_id}",
    )
    target = report if report is not None else s.out_dir
    create_link_artifact(
        target.resolve().as_uri(),
        link_text=target.name,
        key=f"audit-report-{key}",
        description=f"Report of run {s.run_id} (a file on the machine that ran it)",
    )


@flow(
    name=FLOW_NAME,
    description="Audit therapy claims against session notes and plans of care.",
    task_runner=ThreadPoolTaskRunner(max_workers=8),
    persist_result=False,
)
def audit_flow(
    out: str,
    claims: str | None = None,
    notes: str | None = None,
    plans: str | None = None,
    inputs: str | None = None,
    window: str = drop.DEFAULT_WINDOW,
    profile: str | None = None,
    mapping: str | None = None,
    scope: str | None = None,
    history: str | bool = True,
    reviewed: str | None = None,
    period: str | None = None,
    redact: bool = False,
    expectations: bool = True,
    report: bool = True,
    report_limit: int = 200,
    run_id: str | None = None,
    partitions: int | None = None,
    dask_address: str | None = None,
    dask_cluster: dict[str, Any] | None = None,
) -> AuditOutputs:
    """One audit. Either `claims`, `notes` and `plans` (a file or folder each) into `out`, or
    `inputs`, a drop folder: its newest exports into `out/<run id>/`, the audit period being
    `window` relative to the day the run was scheduled for (flows/schedule/drop.py). `partitions`:
    the rules stage as that many partitions on a Dask cluster, the scheduler at `dask_address` or a
    local cluster (`dask_cluster`: its LocalCluster options) (flows/scale/cluster.py)."""
    if expectations:
        stages.start_ge_preload()  # a served run starts here: overlap the import with ingest
    log = get_run_logger()
    started = datetime.now().astimezone()
    run_id = run_id or new_run_id(started)
    timings: dict[str, float] = {}
    given = period
    if inputs:
        today = flow_run.get_scheduled_start_time().astimezone().date()
        picked = select_task(
            inputs, out, window, today, run_id, profile, scope, drop.parse_period(period)
        )
        claims, notes, plans = (str(picked.exports[e]) for e in EXPORTS)
        out, scope, given = str(picked.out_dir), picked.scope, drop.format_period(picked.period)
    elif not (claims and notes and plans):
        raise InputError("give claims, notes and plans, or a drop folder (inputs)")
    s = stages.settings(
        claims,
        notes,
        plans,
        out,
        profile=profile,
        mapping=mapping,
        redact=redact,
        per_rule=report_limit,
        scope=scope,
        history=history,
        reviewed=reviewed,
        period=given,
        expectations=expectations,
        report=report,
        run_id=run_id,
        now=started,
    )
    with timer(timings, "read"):
        reading = {
            e: ingest_task.with_options(name=f"ingest-{e}").submit(e, getattr(s, e), s.mapping)
            for e in EXPORTS
        }
        raws = {e: reading[e].result() for e in EXPORTS}
    with timer(timings, "validate"):
        validation = validate_task(raws, s)
    del raws, reading
    expected = expectations_task.submit(validation, s) if s.expectations else None
    with timer(timings, "rules"):
        if partitions:
            from flows.scale.cluster import rules_on_dask  # imports distributed only when asked

            rules = rules_on_dask(
                validation, s.profile, partitions, address=dask_address, cluster=dask_cluster
            )
        else:
            families = {
                f: rules_task.with_options(name=f"rules-{f}").submit(validation, f, s.profile)
                for f in rule_families()
            }
            rules = merge_results([_family_result(f, families[f]) for f in rule_families()])
    results = None
    if expected is not None:
        results, timings["expectations"] = expected.result()
    with timer(timings, "findings"):
        found = findings_task(validation, rules, results, s)
    written = None
    with timer(timings, "report"):
        if s.report:
            written = report_task(s, validation, found)
    with timer(timings, "history"):
        described = history_task(s, validation, found)
    run_json = run_record_task(s, described, timings)
    publish_artifacts(s, found.summary, None if written is None else written.report_html)
    summary = found.summary
    failed = sum(1 for r in summary["by_rule"].values() if r["status"] == "failed to run")
    log.info(
        "run %s: %d findings on %d lines, $%.2f at risk; %d rules failed to run; outputs in %s",
        s.run_id,
        summary["findings"],
        summary["lines_with_findings"],
        summary["amount_at_risk"],
        failed,
        s.out_dir,
    )
    return outputs(s, validation, found, written, run_json, "prefect", timings)
