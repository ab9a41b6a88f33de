"""What the officer reads holds no pointer into the program's repository or issue tracker: the
report (its methodology appendix included), summary.json, findings.xlsx and the README's
sections for users (before "Synthetic data with ground truth", where the developer's part
begins: the generator, sampling internals, layout, performance, development)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from data import EXAMPLES
from flows.run.direct import run_audit
from tests.support.paths import SAMPLE_INPUTS, SAMPLE_PROVIDERS
from tests.support.pointers import pointers

README = Path(__file__).resolve().parents[2] / "README.md"
USER_PART_ENDS = "## Synthetic data with ground truth"


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pointers")
    history = root / "history.duckdb"
    # twice, so the report has its history section; with reviews and the providers export
    for name in ("first", "out"):
        run_audit(
            *SAMPLE_INPUTS, root / name, providers=SAMPLE_PROVIDERS, history=history,
            reviewed=EXAMPLES / "reviewed-findings.csv", expectations=False,
        )  # fmt: skip
    return root / "out"


@pytest.mark.parametrize("name", ["report.html", "summary.json", "validation.json"])
def test_text_outputs_hold_no_developer_pointer(outputs: Path, name: str) -> None:
    text = (outputs / name).read_text(encoding="utf-8")
    assert pointers(text) == []


def test_the_report_has_its_methodology(outputs: Path) -> None:
    html = (outputs / "report.html").read_text(encoding="utf-8")
    assert 'id="methodology"' in html and "Pub. 100-02 (2024), Ch. 15" in html


def test_the_workbook_holds_no_developer_pointer(outputs: Path) -> None:
    with zipfile.ZipFile(outputs / "findings.xlsx") as z:
        found = {n: pointers(z.read(n).decode("utf-8")) for n in z.namelist()}
    assert {n: p for n, p in found.items() if p} == {}


def test_the_readme_for_users_holds_no_developer_pointer() -> None:
    readme = README.read_text(encoding="utf-8")
    assert USER_PART_ENDS in readme
    assert pointers(readme.split(USER_PART_ENDS, 1)[0]) == []
