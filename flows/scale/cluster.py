"""The rules stage on a Dask cluster: one Prefect task per partition (flows/scale/partitions.py),
submitted with prefect-dask's DaskTaskRunner, either to a local cluster started for the stage or
to a running scheduler (`dask scheduler` / `dask worker`). Only the rules stage goes there:
reading, validation, expectations, findings, report and history stay in the flow's process, so
workers never need the input files or the output folder.

What a worker needs: this package and its locked dependencies installed (the tasks are pickled
by reference to flows.scale.cluster), and the Prefect API of the flow run reachable (each task run
reports its state there). Profiles and reference tables are resolved here and sent with each
task, so a worker needs none of the flow machine's files.

The partitions carry patient data (not the note text) to the workers, in the clear over
Dask's tcp:// unless the cluster is set up with TLS: use only workers on machines you would keep
the exports on. Task results stay in memory (no result persistence, no cache key), and an
exception inside a task becomes its type and place only: data libraries quote cell values in
messages.

Importing this module imports Prefect and distributed; the flow imports it only when asked to
partition.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator
from typing import Any

import dask
import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_dask import DaskTaskRunner

from checks.engine import describe_failure
from checks.merge import RulesOutput, merge_results
from checks.period import Period
from checks.profile import Profile
from flows.inputs.validate import ValidationSummary
from flows.run.context import RunContext
from flows.scale.partitions import (
    Partition,
    PartitionInputs,
    failed_partition,
    plan_partitions,
    run_partition,
    unmet_inputs,
)
from schemas.errors import InputError

NOT_SENT = ("note_text",)  # note columns the workers never receive


def local_cluster_kwargs(partitions: int, **overrides: Any) -> dict[str, Any]:
    """A LocalCluster for one stage: a worker process per core (at most one per partition) with
    one task at a time each, and polars' threads shared out among them so the workers do not
    oversubscribe the cores. Listens on localhost only, dashboard off."""
    cores = os.cpu_count() or 1
    workers = max(1, min(partitions, cores))
    kwargs: dict[str, Any] = {
        "n_workers": workers,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
        "env": {"POLARS_MAX_THREADS": str(max(1, cores // workers))},
    }
    kwargs.update(overrides)
    if not kwargs.get("processes", True):
        kwargs.pop("env", None)  # workers are threads of this process: no environment of theirs
    return kwargs


def dask_runner(
    partitions: int, address: str | None = None, cluster: dict[str, Any] | None = None
) -> DaskTaskRunner:
    """The scheduler at `address`, else a temporary LocalCluster (`cluster` overrides its
    keyword arguments, e.g. {"processes": False})."""
    if address:
        if cluster:
            raise InputError("give a Dask scheduler address or local cluster options, not both")
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs=local_cluster_kwargs(partitions, **(cluster or {})))


@task(name="rules-partition", cache_policy=NO_CACHE, persist_result=False)
def partition_task(
    part: Partition,
    profiles: dict[str, Profile],
    mue: pl.DataFrame,
    override: Profile | None,
    period: Period | None = None,
    inputs: PartitionInputs | None = None,
) -> RulesOutput:
    inputs = PartitionInputs() if inputs is None else inputs
    try:
        return run_partition(
            part,
            profiles=profiles,
            mue=mue,
            override=override,
            period=period,
            providers=inputs.providers,
            reference=inputs.reference,
            unmet=inputs.unmet,
        )
    except Exception as exc:  # a partition that raises leaves its rules "failed to run"
        return failed_partition(part, f"partition {part.name}: {describe_failure(exc)}")


def _answer(part: Partition, future: Any) -> RulesOutput:
    try:
        value = future.result(raise_on_failure=False)
    except Exception as exc:  # the cluster lost the task (a worker died, a timeout)
        value = exc
    if isinstance(value, RulesOutput):
        return value
    return failed_partition(part, f"partition task {part.name} failed: {describe_failure(value)}")


@contextlib.contextmanager
def _api_for_workers(address: str | None) -> Iterator[None]:
    """Workers report their task runs to the flow run's Prefect API. A flow run on Prefect's
    temporary server has no API URL in its settings, and a worker would start a temporary
    server of its own (8 s, and the task runs lost): hand them the temporary server's URL."""
    if PREFECT_API_URL.value():
        yield
        return
    with get_client(sync_client=True) as client:
        url = str(client.api_url).rstrip("/")
    if address:
        get_run_logger().warning(
            "Prefect runs on a temporary server at %s: workers on other machines cannot "
            "report to it; set PREFECT_API_URL to a server they can reach",
            url,
        )
    with temporary_settings(updates={PREFECT_API_URL: url}):
        yield


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    """Dask logs every worker's start and stop at INFO, and warns of every task that carries
    more than 10 MB; the partitions are the data by design, and the run's log says enough."""
    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        with dask.config.set({"distributed.admin.large-graph-warning-threshold": "64GB"}):
            yield
    finally:
        logger.setLevel(level)


def check_partitions(partitions: int) -> int:
    if partitions < 1:
        raise InputError("--partitions must be at least 1")
    return partitions


def rules_on_dask(
    validation: ValidationSummary,
    context: RunContext,
    partitions: int,
    *,
    period: Period | None = None,
    address: str | None = None,
    cluster: dict[str, Any] | None = None,
    providers: pl.DataFrame | None = None,
) -> RulesOutput:
    """Every rule family over `partitions` patient partitions and as many provider partitions,
    one task each on the cluster; the merged answer equals one engine pass's. Call it inside a
    flow run: the task runs are recorded under it."""
    check_partitions(partitions)
    log = get_run_logger()
    profiles, mue, override = context.profiles, context.mue, context.override
    start = time.perf_counter()
    # no rule reads the note text: it stays on this machine
    notes = validation.notes.drop(*NOT_SENT, strict=False)
    parts = plan_partitions(validation.claims, notes, validation.plans, partitions)
    # the optional inputs are judged over all the data once, and sent whole to every task
    unmet = unmet_inputs(
        validation.claims,
        notes,
        validation.plans,
        providers=providers,
        reference=context.reference,
        absent=validation.unavailable,
    )
    inputs = PartitionInputs(providers, context.reference, unmet)
    log.info(
        "rules on Dask: %d partitions in %.1f s (%s), %s",
        len(parts),
        time.perf_counter() - start,
        ", ".join(f"{p.name}: {p.claims.height} lines" for p in parts),
        f"scheduler {address}" if address else "a local cluster",
    )
    with (
        _api_for_workers(address),
        _quiet_dask(),
        dask_runner(partitions, address, cluster) as runner,
    ):
        # the partitions go straight to the workers, each once: inside the task's arguments
        # they would pass through the scheduler and be hashed for the task's key as well
        start = time.perf_counter()
        data = runner.client.scatter(list(parts), hash=False)
        sent = time.perf_counter()
        futures = [
            runner.submit(
                partition_task.with_options(name=f"rules-{p.name}"),
                parameters={
                    "part": d,
                    "profiles": profiles,
                    "mue": mue,
                    "override": override,
                    "period": period,
                    "inputs": inputs,
                },
            )
            for p, d in zip(parts, data, strict=True)
        ]
        outputs = [_answer(p, f) for p, f in zip(parts, futures, strict=True)]
        log.info(
            "rules on Dask: cluster ready and partitions sent in %.1f s, run in %.1f s",
            sent - start,
            time.perf_counter() - sent,
        )
    return merge_results(outputs, [p.kind for p in parts])
