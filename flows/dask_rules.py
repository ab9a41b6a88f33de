"""The rules stage on a Dask cluster: one Prefect task per partition (flows/partitioned.py),
submitted with prefect-dask's DaskTaskRunner, either to a local cluster started for the stage or
to a running scheduler (`dask scheduler` / `dask worker`). Only the rules stage goes there:
reading, validation, expectations, findings, report and history stay in the flow's process, so
workers never need the input files or the output folder.

What a worker needs: this package and its locked dependencies installed (the tasks are pickled
by reference to flows.dask_rules), and the Prefect API of the flow run reachable (each task run
reports its state there). Profiles and reference tables are resolved here and sent with each
task, so a worker needs none of the flow machine's files.

The partitions carry patient data to the workers, in the clear over Dask's tcp:// unless the
cluster is set up with TLS: use only workers on machines you would keep the exports on.
Task results stay in memory (no result persistence, no cache key), and an exception inside a
task becomes its type and place only: data libraries quote cell values in messages.

Importing this module imports Prefect and distributed; the flow imports it only when asked to
partition.
"""

from __future__ import annotations

import os
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect_dask import DaskTaskRunner

from checks.profile import Profile
from flows.config import default_profiles, mue_table, resolve_profile
from flows.partitioned import (
    Partition,
    failed_partition,
    merge_outputs,
    plan_partitions,
    run_partition,
)
from flows.rules_stage import RulesOutput, describe_failure
from flows.validate_stage import ValidationSummary
from schemas.errors import InputError

DEFAULT_PARTITIONS = 4


def local_cluster_kwargs(partitions: int, **overrides: Any) -> dict[str, Any]:
    """A LocalCluster for one stage: a worker process per core (at most one per partition) with
    one task at a time each, and polars' threads shared out among them so the workers do not
    oversubscribe the cores. Listens on localhost only and serves no dashboard."""
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
) -> RulesOutput:
    try:
        return run_partition(part, profiles=profiles, mue=mue, override=override)
    except Exception as exc:  # a partition that raises leaves its rules "failed to run"
        return failed_partition(part, f"partition {part.name}: {describe_failure(exc)}")


def _answer(part: Partition, future: Any) -> RulesOutput:
    try:
        value = future.result(raise_on_failure=False)
    except Exception as exc:  # the cluster lost the task (a worker died, a timeout)
        value = exc
    if isinstance(value, RulesOutput):
        return value
    return failed_partition(part, f"partition task {part.name} failed: {type(value).__name__}")


def check_partitions(partitions: int) -> int:
    if partitions < 1:
        raise InputError("--partitions must be at least 1")
    return partitions


def rules_on_dask(
    validation: ValidationSummary,
    profile: str | None,
    partitions: int,
    *,
    address: str | None = None,
    cluster: dict[str, Any] | None = None,
) -> RulesOutput:
    """Every rule family over `partitions` patient partitions and as many provider partitions,
    one task each on the cluster; the merged answer equals one engine pass's. Call it inside a
    flow run: the task runs are recorded under it."""
    check_partitions(partitions)
    log = get_run_logger()
    override = resolve_profile(profile) if profile else None
    profiles, mue = default_profiles(), mue_table().collect()
    parts = plan_partitions(validation.claims, validation.notes, validation.plans, partitions)
    log.info(
        "rules on Dask: %d partitions (%s), %s",
        len(parts),
        ", ".join(f"{p.name}: {p.claims.height} lines" for p in parts),
        f"scheduler {address}" if address else "a local cluster",
    )
    with dask_runner(partitions, address, cluster) as runner:
        futures = [
            runner.submit(
                partition_task.with_options(name=f"rules-{p.name}"),
                parameters={"part": p, "profiles": profiles, "mue": mue, "override": override},
            )
            for p in parts
        ]
        outputs = [_answer(p, f) for p, f in zip(parts, futures, strict=True)]
    return merge_outputs(parts, outputs)
