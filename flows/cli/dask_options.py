"""`therapy-audit run --partitions N [--dask-address ADDRESS]`: the rules stage on a Dask
cluster (flows/scale/cluster.py). Kept apart from flows/cli/main.py, and importing neither Prefect
nor Dask: the options are checked before anything starts, and asking for them implies the Prefect
flow (the partitions are Prefect tasks on the DaskTaskRunner)."""

from __future__ import annotations

import argparse
from typing import Any

from schemas.errors import InputError

# with --dask-address alone: a few partitions per worker of a small cluster
DEFAULT_PARTITIONS = 4


def add_dask_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--partitions",
        type=int,
        metavar="N",
        help="run the rules as N partitions by patient and N by provider, one Prefect task "
        "each on a Dask cluster (implies --orchestrate); the findings are the same as without. "
        "Without --dask-address a local cluster is started for the run",
    )
    parser.add_argument(
        "--dask-address",
        metavar="ADDRESS",
        help="scheduler of a running Dask cluster, e.g. tcp://10.0.0.5:8786 (partitions: "
        f"--partitions, default {DEFAULT_PARTITIONS}). Its workers need this package installed "
        "and receive patient data",
    )


def wants_dask(args: argparse.Namespace) -> bool:
    """True when the run asked for a Dask cluster; InputError for a bad --partitions."""
    partitions = getattr(args, "partitions", None)
    if partitions is not None and partitions < 1:
        raise InputError("--partitions must be at least 1")
    return partitions is not None or bool(getattr(args, "dask_address", None))


def dask_flow_options(args: argparse.Namespace) -> dict[str, Any]:
    """audit_flow's keyword arguments for the Dask rules stage ({} when not asked for)."""
    if not wants_dask(args):
        return {}
    address = getattr(args, "dask_address", None) or None
    partitions = args.partitions if args.partitions is not None else DEFAULT_PARTITIONS
    return {"partitions": partitions, "dask_address": address}
