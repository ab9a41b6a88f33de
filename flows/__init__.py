"""Orchestration, CLI and file I/O. No business logic."""

import os

# polars allocates through jemalloc. With its default decay, jemalloc hands freed pages back to
# the kernel within moments and the next operation faults them in again: at ten million lines
# the rules stage spent 55 s of system time that way (issue #6). Freed pages kept for 2 s, then
# returned at once (no "muzzy" stage), cost no more time than keeping them 30 s and lower the
# peak: a 10M-line audit took 77.5 s / 8.4 GB this way, 73.6 s / 8.9 GB with 10 s and 74.8 s /
# 10.9 GB with 30 s (one run each; run-to-run noise here is several seconds). Read once, when
# polars is first loaded, so it is set here, before any flows module imports polars; a value in
# the environment wins.
os.environ.setdefault(
    "_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:2000,muzzy_decay_ms:0"
)
