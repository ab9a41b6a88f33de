"""Every file an audit writes from its findings, in one list that both runners loop over.

The direct runner and the Prefect flow write their outputs through `write_outputs`, a stage at a
time ("findings": the contract files, summary.json and the status file; "report": the page and
the workbook), so a new output is one `Output` entry here and both modes write it the same way.
Each file is written under a temporary name in the output folder and renamed into place, so a
crash never leaves a half-written file where a reader expects a whole one.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from flows.outputs import files, findings, packets, report
from flows.outputs.atomic import replacing
from flows.outputs.audited import Audited


@dataclass(frozen=True)
class Output:
    file: str  # its name in the output folder
    stage: str  # the run.json stage its time counts under
    write: Callable[[Audited, Path], object]
    wanted: Callable[[Audited], bool] = lambda audited: True
    # shows the dataset expectations' results (summary.json's section, the report's): a run
    # writes the other outputs while the expectations worker is still busy
    shows_expectations: bool = False


OUTPUTS: tuple[Output, ...] = (
    Output(files.FINDINGS_CSV, "findings", findings.write_findings_csv),
    Output(files.FINDINGS_PARQUET, "findings", findings.write_findings_parquet),
    Output(files.SUMMARY_JSON, "findings", findings.write_summary, shows_expectations=True),
    Output(files.STATUS_CSV, "findings", findings.write_status, findings.has_status),
    Output(files.FINDINGS_XLSX, "report", report.write_workbook, report.wanted),
    Output(files.REPORT_HTML, "report", report.write_page, report.wanted, shows_expectations=True),
    Output(packets.PACKETS_INDEX, "report", packets.write_packets, packets.wanted),
)
STAGES = tuple(dict.fromkeys(o.stage for o in OUTPUTS))


def _atomic(output: Output, audited: Audited) -> Path:
    final = audited.settings.out_dir / output.file
    with replacing(final) as partial:
        output.write(audited, partial)
    return final


def write_outputs(
    stage: str, audited: Audited, at_once: int = 2, expectations: bool | None = None
) -> dict[str, Path]:
    """Write the outputs of `stage` that this run wants, `at_once` at a time (the writers spend
    most of their time in polars, zlib or file I/O, which release the GIL; a partitioned run,
    short of memory rather than time, writes one at a time); file name -> path.
    `expectations`: only the outputs that show the expectations' results (True) or only the
    others (False); None: all of them."""
    if stage not in STAGES:
        raise ValueError(f"unknown output stage {stage!r}: one of {STAGES}")
    chosen = [
        o
        for o in OUTPUTS
        if o.stage == stage
        and o.wanted(audited)
        and (expectations is None or o.shows_expectations == expectations)
    ]
    if not chosen:
        return {}
    audited.settings.out_dir.mkdir(parents=True, exist_ok=True)
    if stage == "report":
        audited.run_info  # noqa: B018  (computed once here, before two writers share it)
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="outputs") as pool:
        jobs = {o.file: pool.submit(_atomic, o, audited) for o in chosen}
        return {name: job.result() for name, job in jobs.items()}
