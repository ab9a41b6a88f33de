"""The README is part of the contract: it must name every rule, every findings column and the
two set-up commands that CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from checks.registry import all_rules
from schemas.findings import FINDINGS_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_lists_every_rule_id() -> None:
    listed = set(re.findall(r"^\| `([A-Z]+-[A-Z0-9-]+)` \|", README, flags=re.M))
    assert listed == set(all_rules())


def test_readme_names_the_findings_columns_in_order() -> None:
    section = README.split("### Findings contract", 1)[1]
    positions = [section.index(f"`{c}`") for c in FINDINGS_COLUMNS]
    assert positions == sorted(positions)


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test" in README and "make demo" in README
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, flags=re.M)
