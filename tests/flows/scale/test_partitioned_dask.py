"""The partitioned run with its partitions on a Dask cluster (flows/scale/mapper.py): each
partition's validation and rules run as tasks on worker processes that share the work folder,
and the outputs are the bytes of one pass in memory, as the same run's are without a cluster
(tests/flows/scale/test_partitioned_run.py). No Prefect: the partitioned run is the direct
mode's."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client, LocalCluster, get_task_stream

from flows.cli.main import main
from flows.scale import mapper
from flows.scale.mapper import WorkMark
from flows.synth.generate import generate
from schemas.errors import InputError
from tests.flows.scale.test_partitioned_run import both
from tests.support.paths import SAMPLE_INPUTS, SAMPLE_PROVIDERS


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A cluster of two worker processes: every job and answer is pickled between processes,
    as on machines of their own."""
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:  # fmt: skip
        yield cluster.scheduler_address


@pytest.mark.parametrize("k", [1, 4])
def test_the_sample_on_a_cluster_is_the_sample_in_one_pass(
    tmp_path: Path, scheduler: str, k: int
) -> None:
    with Client(scheduler) as client, get_task_stream(client) as stream:
        one, cut = both(
            tmp_path, *SAMPLE_INPUTS, k, worker=False, dask_address=scheduler,
            providers=SAMPLE_PROVIDERS,
        )  # fmt: skip
    by_rule = one.summary["by_rule"]
    # provider-scope rules with findings: their partitions ran on the cluster too
    assert by_rule["OVERLAP-PROVIDER"]["findings"] and by_rule["OVERLAP-DAY-CAP"]["findings"]
    assert cut.mode == "partitioned"
    # one task per partition for the validation and for each kind of rules, all on workers
    ran = Counter(str(t["key"]).split("-")[0] for t in stream.data)
    assert ran["check_partition"] == k and ran["patient_task"] == k
    assert 1 <= ran["provider_task"] <= k


def test_generated_exports_redacted_with_a_period_on_a_cluster(
    tmp_path: Path, scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The generator's exports read in slices, redacted and with an audit period, from the
    spawned worker process as the command runs it. The key is set here only, where the run
    starts: the workers, started before it, pseudonymise with the key each job carries."""
    monkeypatch.setenv("THERAPY_AUDIT_REDACT_KEY", "dask-test-key")
    data = tmp_path / "data"
    generate(3_000, 5, data)
    one, _ = both(
        tmp_path, data / "claims.parquet", data / "notes.parquet", data / "plans.parquet", 3,
        slice_rows=1_201, dask_address=scheduler, providers=data / "providers.parquet",
        redact=True, period="2026-01-01..2026-06-30",
    )  # fmt: skip
    assert one.summary["findings"] > 50


def test_an_unreachable_scheduler_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mapper, "CONNECT_TIMEOUT", "1s")
    start = time.perf_counter()
    refused = r"^the Dask scheduler at tcp://127\.0\.0\.1:9 could not be reached"
    with pytest.raises(InputError, match=refused), mapper.dask_map("tcp://127.0.0.1:9"):
        pass
    assert time.perf_counter() - start < 15


def _read_missing(path: str) -> int:
    return Path(path).stat().st_size


def test_a_worker_that_does_not_see_the_work_folder_is_one_line(scheduler: str) -> None:
    """A worker on a machine that does not share --work-dir: every task checks the run's mark
    before it reads (an empty partition is not an error to the reader), and a file it does not
    find is the same line."""
    elsewhere = WorkMark(Path("/nonexistent/therapy-audit-work/.mark"), "token")
    jobs: list[tuple[Callable[[Any], Any], Any]] = [
        (WorkMark.check, elsewhere),
        (_read_missing, "/nonexistent/therapy-audit-work/claims.parquet"),
    ]
    for fn, job in jobs:
        with (
            pytest.raises(InputError, match=r"--work-dir must be a folder the workers share$"),
            mapper.dask_map(scheduler) as on_cluster,
        ):
            list(on_cluster(fn, [job]))


def _die(_: object) -> None:
    os._exit(1)  # as the system stops a worker out of memory: no answer, no exception


def test_a_worker_lost_while_it_runs_a_partition_is_one_line() -> None:
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=":0",  # the module's cluster may hold the default port
        ) as cluster,
        pytest.raises(InputError, match=r"^a Dask worker was lost .* more --patient-partitions"),
        mapper.dask_map(cluster.scheduler_address) as on_cluster,
    ):  # fmt: skip
        list(on_cluster(_die, [None]))


def test_a_run_whose_work_folder_the_tasks_cannot_see_stops(tmp_path: Path) -> None:
    """The mark each job carries: a task run after its run removed the folder (or on a machine
    without it) stops before it reads or writes anything."""
    work = tmp_path / "work"
    work.mkdir()
    mark = WorkMark.create(work)
    mark.check()
    (work / mark.path.name).write_text("another run", encoding="ascii")
    with pytest.raises(InputError, match="--work-dir must be a folder the workers share"):
        mark.check()


def test_the_command_line_runs_its_partitions_on_a_cluster(
    tmp_path: Path, scheduler: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """--patient-partitions with --dask-address is the partitioned run on that cluster, not
    the Prefect flow's Dask rules stage; with --partitions it is still refused. The work folder
    is given relative to this process's folder, which the workers do not share."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    claims, notes, plans = SAMPLE_INPUTS
    work = tmp_path / "work"
    work.mkdir()
    args = [
        "run", "--claims", str(claims), "--notes", str(notes), "--plans", str(plans),
        "--no-history", "--no-expectations", "--patient-partitions", "3",
        "--work-dir", "work", "--dask-address", scheduler,
    ]  # fmt: skip
    assert main([*args, "--out", str(tmp_path / "out")]) == 0
    assert "(partitioned mode, run " in capsys.readouterr().out
    assert list(work.iterdir()) == []
    assert main([*args, "--out", str(tmp_path / "o2"), "--partitions", "3"]) == 2
    assert "direct mode" in capsys.readouterr().err
