"""Orchestration, CLI and file I/O. No business logic."""

import os

# polars allocates through jemalloc. With its default decay, jemalloc hands freed pages back to
# the kernel within moments and the next operation faults them in again: at ten million lines
# the rules stage spent 55 s of system time that way, 14 s with this setting (issue #6). Read
# once, when polars is first loaded, so it is set here, before any flows module imports polars;
# a value in the environment wins.
os.environ.setdefault(
    "_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:30000,muzzy_decay_ms:30000"
)
