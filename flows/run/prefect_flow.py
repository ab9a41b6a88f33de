"""The audit as a Prefect flow: scheduled, retried, observed (and, with a distributed task runner,
spread over a cluster). It only orchestrates: every task calls a plain stage function of
flows/run/stages.py, the same ones the direct mode (flows/run/direct.py) calls, so a flow run and a
direct run write the same findings.csv byte for byte.

    audit_flow
      ├ select-exports (drop-folder runs only: the newest exports, the window's period)
      ├ ingest-claims ┐
      ├ ingest-notes  ├ concurrently (and ingest-providers when a providers export is given)
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

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from prefect.states import State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.tasks import Task, exponential_backoff

from checks.engine import describe_failure
from checks.merge import RulesOutput, merge_results
from checks.period import Period
from checks.profile import ProfileError
from checks.registry import families as rule_families
from flows.inputs.mapping import SourceMapping
from flows.inputs.read import RawExport
from flows.inputs.validate import ValidationSummary
from flows.outputs.audited import Audited
from flows.outputs.files import REPORT_HTML
from flows.outputs.findings import findings
from flows.run import stages
from flows.run.artifacts import publish_artifacts
from flows.run.context import RunContext
from flows.run.direct import AuditOutputs, outputs
from flows.run.prefect_names import flow_run_link, flow_run_name
from flows.run.prepared import take
from flows.run.record import new_run_id, timer, write_run_json
from flows.run.remits import with_remits
from flows.run.rules import failed_families, run_families
from flows.run.settings import RunSettings, run_options, settings
from flows.schedule import drop
from flows.schedule.index import write_index
from flows.state.history import HistoryError
from schemas.errors import InputError

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")
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
        raise StageFailed(f"{fn.__name__}: {describe_failure(exc)}") from None


def _io_error(task: Any, task_run: Any, state: State) -> bool:
    """Retry only what a retry can fix: an OS error or a locked history database."""
    try:
        state.result()
    except (OSError, HistoryError):
        return True
    except BaseException:
        return False
    return False


def _task(name: str, *, io: bool = False) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task whose results stay in memory: frames are handed from task to task in this
    process, never written to Prefect's result storage (they hold patient data) and never
    hashed for a cache key. `io`: file I/O, retried with backoff when a retry can help."""
    if io:
        return task(
            name=name,
            cache_policy=NO_CACHE,
            persist_result=False,
            retries=IO_RETRIES,
            retry_delay_seconds=IO_BACKOFF,
            retry_jitter_factor=0.2,
            retry_condition_fn=_io_error,
        )
    return task(name=name, cache_policy=NO_CACHE, persist_result=False)


@_task("select-exports", io=True)
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


@_task("ingest", io=True)
def ingest_task(export: str, path: Path, mapping: SourceMapping | None) -> RawExport:
    return _guard(stages.ingest, export, path, mapping)


@_task("validate")
def validate_task(raws: dict[str, RawExport], s: RunSettings) -> ValidationSummary:
    return _guard(stages.validate, raws, s)


@_task("expectations")
def expectations_task(
    validation: ValidationSummary, s: RunSettings
) -> tuple[list[dict[str, Any]], float]:
    timings: dict[str, float] = {}
    with timer(timings, "expectations"):
        results = _guard(stages.expectations, validation, s)
    return results, timings["expectations"]


@_task("rules")
def rules_task(
    validation: ValidationSummary, family: str, context: RunContext, period: Period | None
) -> RulesOutput:
    # one task also keeps the scorecard's per-provider measures, from the lines it has matched
    measures = family == rule_families()[0]
    return _guard(
        run_families,
        validation,
        (family,),
        context,
        measures=measures,
        period=period,
        providers=validation.providers,
    )


def _findings_written(
    validation: ValidationSummary,
    rules: RulesOutput,
    results: list[dict[str, Any]] | None,
    s: RunSettings,
) -> tuple[Audited, dict[str, Path]]:
    audited = findings(validation, rules, results, s)
    return audited, stages.write("findings", audited)


@_task("findings", io=True)
def findings_task(
    validation: ValidationSummary,
    rules: RulesOutput,
    results: list[dict[str, Any]] | None,
    s: RunSettings,
) -> tuple[Audited, dict[str, Path]]:
    return _guard(_findings_written, validation, rules, results, s)


@_task("report", io=True)
def report_task(audited: Audited) -> dict[str, Path]:
    return _guard(stages.write, "report", audited)


@_task("history", io=True)
def history_task(s: RunSettings, validation: ValidationSummary, audited: Audited) -> dict[str, Any]:
    return _guard(stages.record_history, s, validation, audited)


@_task("run-record", io=True)
def run_record_task(s: RunSettings, inputs: dict[str, Any], timings: dict[str, float]) -> Path:
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
        options=run_options(s),
        timings=timings,
        stages=stages.STAGES,
        prefect=prefect_info,
    )


def _family_result(family: str, future: Any) -> RulesOutput:
    """The family's rule output, or all its rules "failed to run" when its task failed."""
    value = future.result(raise_on_failure=False)
    if isinstance(value, RulesOutput):
        return value
    text = str(value) if isinstance(value, StageFailed) else describe_failure(value)
    return failed_families((family,), f"rule family task failed: {text}")


@flow(
    name=FLOW_NAME,
    flow_run_name=flow_run_name,  # "clinic-north 2026-11": scope and period
    description="Audit therapy claims against session notes and plans of care.",
    # prefect types the parameter invariantly, so its own thread-pool runner does not match it
    task_runner=ThreadPoolTaskRunner(max_workers=8),  # type: ignore[arg-type]
    persist_result=False,
)
def audit_flow(
    out: str | None = None,
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
    providers: str | None = None,
    remits: str | None = None,
    packets: int = 0,
    prepared: str | None = None,
) -> AuditOutputs:
    """One audit. Either `claims`, `notes` and `plans` (a file or folder each) into `out`, or
    `inputs`, a drop folder: its newest exports into `out/<run id>/`, the audit period being
    `window` relative to the day the run was scheduled for (flows/schedule/drop.py). `partitions`:
    the rules stage as that many partitions on a Dask cluster, the scheduler at `dask_address` or a
    local cluster (`dask_cluster`: its LocalCluster options) (flows/scale/cluster.py).
    `providers`: the optional providers export (in a drop folder: its newest providers file, if
    any); `remits` likewise the optional remittances (835 files or a table). `packets`:
    evidence packets for at most that many claims (flows/outputs/packets.py). `prepared`: the
    command line's settings under --redact, kept in this process (flows/run/prepared.py): the
    paths are then not among the flow run's parameters, and the options they settle are
    ignored."""
    if expectations:
        stages.start_ge_preload()  # a served run starts here: overlap the import with ingest
    log = get_run_logger()
    started = datetime.now().astimezone()
    run_id = run_id or new_run_id(started)
    timings: dict[str, float] = {}
    given, root = period, out
    if prepared:
        s = take(prepared)
    else:
        if out is None:
            raise InputError("give the output folder (out)")
        if inputs:
            today = flow_run.get_scheduled_start_time().astimezone().date()
            picked = select_task(
                inputs, out, window, today, run_id, profile, scope, drop.parse_period(period)
            )
            claims = str(picked.exports["claims"])
            notes, plans, providers, remits = (
                None if picked.exports.get(e) is None else str(picked.exports[e])
                for e in ("notes", "plans", "providers", "remits")
            )
            out = str(picked.out_dir)
            scope, given = picked.scope, drop.format_period(picked.period)
        elif not claims:
            raise InputError("give the claims (and optionally notes and plans), or a drop folder")
        s = settings(
            claims, notes, plans, out, profile=profile, mapping=mapping, redact=redact,
            per_rule=report_limit, scope=scope, history=history, reviewed=reviewed, period=given,
            expectations=expectations, report=report, run_id=run_id, packets=packets,
            now=started, providers=providers, remits=remits,
        )  # fmt: skip
    s = replace(s, flow_run=flow_run_link())  # the report links back to this flow run
    with timer(timings, "read"):
        paths = s.export_paths()
        reading = {
            e: ingest_task.with_options(name=f"ingest-{e}").submit(e, path, s.mapping)
            for e, path in paths.items()
        }
        raws = {e: reading[e].result() for e in paths}
        del reading  # validation frees each export's rows as it is checked (stages.validate)
    if s.expectations:
        stages.settle_ge_priority(raws["claims"].frame.height)
    with timer(timings, "validate"):
        validation = validate_task(raws, s)
    del raws
    validation = with_remits(validation.rechunked())
    expected = expectations_task.submit(validation, s) if s.expectations else None
    with timer(timings, "rules"):
        if partitions:
            from flows.scale.cluster import rules_on_dask  # imports distributed only when asked

            rules = rules_on_dask(
                validation,
                s.context,
                partitions,
                period=s.period,
                providers=validation.providers,
                address=dask_address,
                cluster=dask_cluster,
            )
        else:
            families = {
                f: rules_task.with_options(name=f"rules-{f}").submit(
                    validation, f, s.context, s.period
                )
                for f in rule_families()
            }
            rules = merge_results([_family_result(f, families[f]) for f in rule_families()])
    results = None
    if expected is not None:
        results, timings["expectations"] = expected.result()
    with timer(timings, "findings"):
        audited, written = findings_task(validation, rules, results, s)
    with timer(timings, "report"):
        written = {**written, **report_task(audited)}
    with timer(timings, "history"):
        described = history_task(s, validation, audited)
    run_json = run_record_task(s, described, timings)
    publish_artifacts(s, audited.summary, written.get(REPORT_HTML))
    if inputs and root:  # a drop-folder run (serve): its folder of runs gets an index of them all
        write_index(Path(root))
    summary = audited.summary
    failed = sum(1 for r in summary["by_rule"].values() if r["status"] == "failed to run")
    log.info(
        "run %s: %s findings on %s lines, $%s at risk; %d rules failed to run; outputs in %s",
        s.run_id,
        f"{summary['findings']:,}",
        f"{summary['lines_with_findings']:,}",
        f"{summary['amount_at_risk']:,.2f}",
        failed,
        "the --out folder" if s.redact else s.out_dir,
    )
    return outputs(audited, written, run_json, "prefect", timings)
