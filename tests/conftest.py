"""Fixtures shared by every test folder: the demo sample validated once and audited once per
session. Both are read-only for the tests that take them; a test that needs other options
(redaction, history, a reviewed file) or writes beside the outputs makes its own run."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from flows.inputs.validate import ValidationSummary, validate_inputs
from flows.run.direct import AuditOutputs, run_audit
from tests.support.paths import SAMPLE_INPUTS, SAMPLE_PROVIDERS

# Speed is measured by `make bench`, never asserted by a unit test: hypothesis's per-example
# deadline is a timing assertion that fails on a busy machine, so it is off for every test.
settings.register_profile("therapy-audit", deadline=None)
settings.load_profile("therapy-audit")


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def validated_sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ValidationSummary]:
    """The sample through the validation stage (its quarantine files in a folder of its own)."""
    out = tmp_path_factory.mktemp("validated-sample")
    validated = validate_inputs(*SAMPLE_INPUTS, out, providers=SAMPLE_PROVIDERS)
    before = _digests(out)
    yield validated
    # shared by many tests: one that wrote into it would make the others depend on test order
    assert _digests(out) == before, "a test changed the shared validation's files"


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AuditOutputs]:
    """`therapy-audit demo` as a function: the sample audited with the default options (report,
    workbook, expectations, and history in a database of its own beside the output folder)."""
    out = run_audit(
        *SAMPLE_INPUTS, tmp_path_factory.mktemp("demo-run") / "out", providers=SAMPLE_PROVIDERS
    )
    before = _digests(out.out_dir)
    yield out
    # as above: every test that takes this run sees the files the run wrote, unchanged
    assert _digests(out.out_dir) == before, "a test changed the shared demo run's outputs"
