"""The README is part of the contract: it must name every rule, every findings column, every
command with its options, every file an audit writes, and the two set-up commands that CI runs."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from checks.registry import all_rules
from data import SAMPLE
from flows.cli.main import build_parser, main
from schemas.findings import FINDINGS_COLUMNS
from tests.support.paths import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    """The README text under `## title`, up to the next heading of the same level."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _choices(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(subs[0].choices) if subs else {}


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every command, a group's commands as "group command" (e.g. "sample numbers")."""
    found: dict[str, argparse.ArgumentParser] = {}
    for name, parser in _choices(build_parser()).items():
        nested = _choices(parser)
        found.update({f"{name} {n}": p for n, p in nested.items()} if nested else {name: parser})
    return found


def _readme_output_files() -> set[str]:
    """File names in the first column of the README's `| file | what |` tables."""
    names: set[str] = set()
    for table in README.split("\n| file | what |\n")[1:]:
        for row in re.findall(r"^\| ([^|]+) \|", table.split("\n\n", 1)[0], flags=re.M):
            names |= set(re.findall(r"`([^`]+)`", row))
    return names


def _written(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}


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


def _commands_block() -> dict[str, set[str]]:
    """Each command line of the README's Commands block -> the options it names, with the
    AUDIT OPTIONS placeholder replaced by the options the paragraph below the block lists."""
    section = _section("Commands")
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    audit = section.split("AUDIT OPTIONS are ", 1)[1].split("(see", 1)[0]
    lines = re.findall(r"^therapy-audit ([a-z-]+(?: [a-z][a-z-]*)?) ?(.*)$", block, flags=re.M)
    options = {
        command: set(re.findall(r"--[a-z][a-z-]*", rest.replace("[AUDIT OPTIONS]", audit)))
        for command, rest in lines
    }
    assert len(options) == len(lines), "a command is listed twice"
    return options


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        option
        for action in parser._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }


def test_commands_block_lists_every_subcommand() -> None:
    assert sorted(_commands_block()) == sorted(_subcommands())


@pytest.mark.parametrize("command", sorted(_subcommands()))
def test_commands_block_names_each_option_of_its_command(command: str) -> None:
    listed = _commands_block().get(command, set())
    assert listed == _options(_subcommands()[command])


def test_readme_tables_name_every_file_the_demo_writes(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out)]) == 0
    # The demo keeps history, so findings_status.csv is written too: one run shows every file.
    assert _written(out) == _readme_output_files()


def test_validate_writes_only_files_the_readme_names(tmp_path: Path) -> None:
    out = tmp_path / "validate"
    exports = [
        a for e in ("claims", "notes", "plans") for a in (f"--{e}", str(SAMPLE / f"{e}.csv"))
    ]
    assert main(["validate", *exports, "--out", str(out)]) == 0
    written = _written(out)
    assert written and written <= _readme_output_files()
