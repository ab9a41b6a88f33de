"""The Prefect side of a flow run's name and link: read from Prefect's runtime while the flow runs
(flows/schedule/names.py makes the name from the parameters)."""

from __future__ import annotations

from datetime import datetime

from prefect.runtime import flow_run

from flows.schedule.names import run_name


def flow_run_name() -> str:
    """`@flow(flow_run_name=...)`: the run's scope and period. Never fails a run: a name is not
    worth an audit, so anything unexpected gives the flow's own name."""
    try:
        when = flow_run.get_scheduled_start_time()
        day = (when or datetime.now()).astimezone().date()
        return run_name(flow_run.get_parameters() or {}, day)
    except Exception:
        return "therapy-audit"


def flow_run_link() -> tuple[str, str] | None:
    """(name, address in the Prefect UI) of the running flow run, for the report to link back;
    None outside a flow run or when the UI address is not a web address (a temporary server)."""
    url = flow_run.get_flow_run_ui_url() or ""
    if not url.startswith(("http://", "https://")):
        return None
    return flow_run.get_name() or "flow run", url
