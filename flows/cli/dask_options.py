"""`therapy-audit run --partitions N [--dask-address ADDRESS]`: the rules stage on a Dask
cluster (flows/scale/cluster.py); `--patient-partitions N [--work-dir DIR] [--dask-address
ADDRESS]`: the partitioned run (flows/run/partitioned.py), its partitions on the cluster when an
address is given. Kept apart from flows/cli/main.py, and importing neither Prefect nor Dask: the
options are checked before anything starts. --partitions implies the Prefect flow (the partitions
are Prefect tasks on the DaskTaskRunner); the partitioned run is the direct mode's."""

from __future__ import annotations

import argparse
from pathlib import Path
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
        help="scheduler of a running Dask cluster, e.g. tcp://10.0.0.5:8786: the rules stage "
        f"(partitions: --partitions, default {DEFAULT_PARTITIONS}) or, with "
        "--patient-partitions N, each partition's validation and rules. Its workers need this "
        "package installed and receive patient data",
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


def add_partition_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--patient-partitions",
        type=int,
        metavar="N",
        help="cut the exports into N patient partitions in a work folder and read, validate "
        "and audit one at a time, for inputs larger than memory; 1 = one pass in memory "
        "(default: one pass while the claims fit in half the memory available, else enough "
        "partitions; the findings are the same either way). With --dask-address, each "
        "partition is validated and audited on that cluster, whose workers must reach "
        "--work-dir",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        metavar="DIR",
        help="where a partitioned run keeps its work folder, which holds the rows as read and "
        "is removed when the run ends (default: the system's temporary folder; on Dask, a "
        "folder the workers share)",
    )


def partitions_on_dask(args: argparse.Namespace) -> str | None:
    """The scheduler address when the run asks for a partitioned run on Dask: --patient-partitions
    N (N > 1) with --dask-address, without --partitions or --orchestrate (the Prefect flow's
    Dask rules stage); None otherwise."""
    address = getattr(args, "dask_address", None) or None
    asked = getattr(args, "patient_partitions", None)
    if address is None or asked is None or asked <= 1:
        return None
    if getattr(args, "partitions", None) is not None or getattr(args, "orchestrate", False):
        return None
    return str(address)


def patient_partitions(args: argparse.Namespace, claims: Path, prefect: bool) -> int:
    """The patient partitions of the run (1: one pass); InputError for a bad choice. A command
    without the option (demo) runs in one pass."""
    if "patient_partitions" not in args:
        return 1
    asked = args.patient_partitions
    if asked is not None and asked < 1:
        raise InputError("--patient-partitions must be at least 1")
    if prefect:
        if asked is not None and asked > 1:
            raise InputError(
                "--patient-partitions runs in the direct mode: not with --orchestrate, "
                "--partitions or PREFECT_API_URL"
            )
        return 1
    if asked is not None:
        return asked
    from flows.scale.sizing import claim_lines, memory_available, partitions_for

    return partitions_for(claim_lines(claims), memory_available())
