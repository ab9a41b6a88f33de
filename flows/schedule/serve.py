"""`therapy-audit serve`: the audit flow served on a schedule with Prefect's `serve`.

`build_deployment` turns the command's options into a RunnerDeployment of
flows/run/prefect_flow.py's
`audit_flow` (cron schedule, drop-folder parameters); `serve_scheduled` then blocks in
`prefect.serve`, which polls the Prefect server and runs each scheduled audit in a subprocess.
Each run audits the newest exports of the drop folder (flows/schedule/drop.py) for the window's
period into `<out>/<run id>/`. Tests build the deployment and never serve.

The entrypoint is the module path `flows.run.prefect_flow.audit_flow` (the package is installed),
so the served runs find the flow whatever the directory `serve` was started from.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron

from flows.run.prefect_flow import audit_flow
from flows.schedule import drop
from flows.schedule.index import write_index
from schemas.errors import InputError

DEFAULT_NAME = "scheduled-audit"


def deployment_parameters(
    inputs: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    window: str = drop.DEFAULT_WINDOW,
    profile: str | None = None,
    mapping: str | os.PathLike[str] | None = None,
    scope: str | None = None,
    history: str | bool = True,
    reviewed: str | os.PathLike[str] | None = None,
    redact: bool = False,
    expectations: bool = True,
    report_limit: int = 200,
) -> dict[str, Any]:
    """audit_flow's parameters for scheduled runs: absolute paths (the runs start elsewhere),
    only what differs from the flow's defaults (the UI shows what was chosen)."""
    folder = Path(inputs).resolve()
    if not folder.is_dir():
        raise InputError(f"drop folder '{inputs}' does not exist or is not a folder")
    params: dict[str, Any] = {
        "inputs": str(folder),
        "out": str(Path(out).resolve()),
        "window": drop.check_window(window),
    }
    optional = {
        "profile": profile,
        "mapping": None if mapping is None else str(Path(mapping).resolve()),
        "scope": scope,
        "reviewed": None if reviewed is None else str(Path(reviewed).resolve()),
    }
    params.update({k: v for k, v in optional.items() if v is not None})
    if history is not True:
        params["history"] = history if history is False else str(Path(history).resolve())
    if redact:
        params["redact"] = True
    if not expectations:
        params["expectations"] = False
    if report_limit != 200:
        params["report_limit"] = report_limit
    return params


def build_deployment(
    cron: str,
    parameters: dict[str, Any],
    *,
    name: str = DEFAULT_NAME,
    timezone: str | None = None,
) -> RunnerDeployment:
    """The deployment `serve` registers: audit_flow on `cron` (in `timezone`, default UTC)."""
    try:
        schedule = Cron(cron, timezone=timezone) if timezone else Cron(cron)
    except ValueError as err:
        raise InputError(f"--cron '{cron}' is not a valid schedule: {err}") from None
    deployment = audit_flow.to_deployment(
        name=name,
        schedules=[schedule],
        parameters=parameters,
        description="Scheduled therapy billing audit of the newest exports in a drop folder.",
        tags=["therapy-audit", "scheduled"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )
    # outside an event loop prefect's sync-compatible call returns the deployment itself
    assert isinstance(deployment, RunnerDeployment)
    return deployment


def serve_scheduled(deployment: RunnerDeployment) -> None:
    """Write the output folder's index.html of the runs so far, then block serving
    `deployment` until interrupted (Ctrl-C pauses its schedule). Each run rewrites the index."""
    from prefect import serve

    out = Path(str((deployment.parameters or {})["out"]))
    out.mkdir(parents=True, exist_ok=True)
    write_index(out)
    serve(deployment)
