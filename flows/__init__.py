"""Orchestration, CLI and file I/O. No business logic."""

import os

# polars allocates through jemalloc, whose default decay hands freed pages back to the kernel
# only for the next operation to fault them in again; kept 2 s and then returned at once, they
# cost little system time at the lowest peak of the decays tried (README, Performance). jemalloc
# reads this once, when polars loads, hence here, before any flows module imports polars; a value
# in the environment wins.
os.environ.setdefault(
    "_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:2000,muzzy_decay_ms:0"
)
