"""Where the tests (and the benchmark) find the repository's own files and the demo sample's
exports, each defined once. Imports nothing but `data`, so the benchmark can take it before
`flows` configures the allocator."""

from __future__ import annotations

from pathlib import Path

from data import SAMPLE

ROOT = Path(__file__).resolve().parents[2]
# the sample's exports in the order run_audit and validate_inputs take them
SAMPLE_INPUTS = tuple(SAMPLE / f"{e}.csv" for e in ("claims", "notes", "plans"))
# the sample's optional providers export (the demo audits with it)
SAMPLE_PROVIDERS = SAMPLE / "providers.csv"
# the same files as options of `therapy-audit run` and `validate`
SAMPLE_ARGS = tuple(f"--{p.stem}={p}" for p in (*SAMPLE_INPUTS, SAMPLE_PROVIDERS))
