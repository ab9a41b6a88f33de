"""How many patient partitions a direct run takes (flows/run/partitioned.py): one pass in memory
while the claims fit comfortably, else partitions sized to the memory available.

The claim lines are counted from Parquet footers and estimated from the size of other files;
the memory a line needs in one pass is the measured peak of the 10-million-line benchmark
(README, Performance) per line, notes and plans included.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import polars as pl

from flows.inputs.formats import input_files

BYTES_PER_LINE_IN_MEMORY = 750  # 10M lines peaked at 7.2-7.5 GB in one pass
TEXT_BYTES_PER_LINE = 120  # a CSV or X12 claim line on disk, roughly
ONE_PASS_SHARE = 0.5  # one pass while its estimated peak is under half the memory available
PARTITION_SHARE = 0.1  # else partitions of a tenth of it each


def memory_available() -> int:
    """Bytes of memory available to a new process (MemAvailable), else the physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def claim_lines(path: str | os.PathLike[str]) -> int:
    """The claim lines of the claims export at `path`: exact for Parquet, estimated otherwise
    (0 for a path that is not there: reading it reports that)."""
    root = Path(path)
    files = input_files(root) if root.is_dir() else [root] if root.is_file() else []
    lines = 0
    for f in files:
        if f.suffix.lower() == ".parquet":
            try:
                lines += int(pl.scan_parquet(f).select(pl.len()).collect().item())
            except (OSError, pl.exceptions.PolarsError):
                continue  # reading it says what is wrong, in one line
        else:
            lines += f.stat().st_size // TEXT_BYTES_PER_LINE
    return lines


def partitions_for(lines: int, available: int) -> int:
    """1 (one pass) when `lines` fit in a pass, else enough partitions of PARTITION_SHARE."""
    need = lines * BYTES_PER_LINE_IN_MEMORY
    if need <= available * ONE_PASS_SHARE:
        return 1
    return max(2, math.ceil(need / (available * PARTITION_SHARE)))
