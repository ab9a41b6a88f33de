"""Where a partitioned run's per-partition work runs: here, one partition at a time, or on a Dask
cluster, one task per partition. Both give the answers in the partitions' order, one at a time,
so the run reduces them the same way whichever ran them (flows/scale/validate.py,
flows/scale/store_rules.py).

On a cluster the workers read and write the run's work folder themselves: it must be on storage
they share with the machine that starts the run (a local cluster's workers share its disk); every
job carries the run's WorkMark, which a task checks before anything else. What a task receives
(the cut's file list, the profiles, the run's redaction key when the run redacts) and sends back
(counts, quarantine rows, scorecard measures; the findings it writes to the work folder) goes
over Dask's connections, in the clear unless the cluster is set up with TLS: use only workers
on machines you would keep the exports on. Each Dask worker holds one partition per thread.
Importing this module imports neither Dask nor distributed; dask_map does.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from schemas.errors import InputError

T = TypeVar("T")
R = TypeVar("R")
CONNECT_TIMEOUT = "20s"  # how long the scheduler is waited for before the run gives up
# (function, jobs) -> the function's answers, in the jobs' order
PartitionMap = Callable[[Callable[[Any], Any], Sequence[Any]], Iterator[Any]]


NOT_SHARED = (
    "a Dask worker could not find a file of the run's work folder: --work-dir must be a folder "
    "the workers share"
)
LOST = (
    "a Dask worker was lost while it ran a partition (most often: it ran out of memory): run "
    "again with more --patient-partitions or workers with more memory"
)
_MARK = ".therapy-audit-work"


@dataclass(frozen=True)
class WorkMark:
    """A token the run writes into its work folder and every job carries: a task that does not
    find it runs on a machine that does not share the folder (or after the run removed it),
    and stops before it reads an empty partition or writes anything."""

    path: Path
    token: str

    @classmethod
    def create(cls, work: Path) -> WorkMark:
        mark = cls(work / _MARK, secrets.token_hex(16))
        mark.path.write_text(mark.token, encoding="ascii")
        return mark

    def check(self) -> None:
        try:
            found = self.path.read_text(encoding="ascii")
        except OSError:
            found = None
        if found != self.token:
            raise InputError(NOT_SHARED)


def local_map(fn: Callable[[T], R], jobs: Sequence[T]) -> Iterator[R]:
    """One job after the other in this process, each started when the answer before it has
    been taken: only one partition's rows are in memory at a time."""
    return map(fn, jobs)


@contextlib.contextmanager
def dask_map(address: str) -> Iterator[PartitionMap]:
    """A PartitionMap on the Dask scheduler at `address`: every job submitted at once (the
    scheduler gives each worker as many as it has threads), the answers taken in order and
    released as they are. A scheduler that cannot be reached, or a worker that does not see the
    work folder, is one line (InputError); a task that raises otherwise raises here, as it would
    have in this process."""
    from distributed import Client
    from distributed.scheduler import KilledWorker

    logger = logging.getLogger("distributed")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))  # a line per worker event is noise here
    try:
        try:
            client = Client(address, set_as_default=False, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"the Dask scheduler at {address} could not be reached ({type(exc).__name__})"
            ) from None

        def run(fn: Callable[[Any], Any], jobs: Sequence[Any]) -> Iterator[Any]:
            futures = client.map(fn, list(jobs), pure=False)
            try:
                for future in futures:
                    try:
                        yield future.result()
                    except FileNotFoundError:
                        # the work folder was written here: a worker that cannot see it is on
                        # a machine that does not share it
                        raise InputError(NOT_SHARED) from None
                    except KilledWorker:
                        raise InputError(LOST) from None
                    future.release()
            finally:
                # a task already running goes on: it writes only into folders the run made,
                # without making any, so once the run removes its work folder it fails there
                # rather than leave rows behind
                client.cancel(futures)

        with client:
            yield run
    finally:
        logger.setLevel(level)
