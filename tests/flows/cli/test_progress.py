"""The console of a direct run: stage lines with counts and elapsed time on a terminal only,
silent with --quiet or when the output is a file or a pipe; --version; help on every option."""

from __future__ import annotations

import argparse
import io
import re
from pathlib import Path

import pytest

from data import SAMPLE
from flows.cli import progress as console
from flows.cli.main import build_parser, main
from flows.cli.progress import ConsoleProgress, console_progress
from flows.run.direct import run_direct
from flows.run.progress import SILENT
from flows.run.provenance import program_version
from flows.run.settings import settings


def _options() -> list[tuple[str, argparse.Action]]:
    """(command, option) for every option of every command, a group's commands included."""
    found = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, child in action.choices.items():
                    walk(child, f"{name} {sub}".strip())
            elif action.option_strings and action.dest != "help":
                found.append((name or "therapy-audit", action))

    walk(build_parser(), "")
    return found


def test_the_walk_finds_every_command_and_option() -> None:
    commands = {c for c, _ in _options()}
    assert {"therapy-audit", "run", "demo", "validate", "generate", "sample draw"} <= commands
    assert len(_options()) > 60


@pytest.mark.parametrize(
    ("command", "action"),
    _options(),
    ids=[f"{c}:{a.option_strings[-1]}" for c, a in _options()],
)
def test_every_option_has_help(command: str, action: argparse.Action) -> None:
    assert (action.help or "").strip(), f"{command} {action.option_strings} has no help text"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"therapy-audit {program_version()}"


def test_stage_lines_carry_counts_with_separators_and_seconds() -> None:
    stream = io.StringIO()
    p = ConsoleProgress(stream, bar=False)
    p.stage("validate", 1234.56, "1,234,567 rows accepted")
    p.rule_done(3, 20)  # no bar asked for: nothing drawn
    assert stream.getvalue() == "  validate     1,234,567 rows accepted (1,234.6 s)\n"


def test_the_rules_bar_draws_and_closes_before_the_next_stage_line() -> None:
    stream = io.StringIO()
    p = ConsoleProgress(stream)
    for done in range(1, 6):
        p.rule_done(done, 5)
    assert p._live is None  # closed at the last rule run
    p.stage("rules", 0.5, "5 of 5 rules ran")
    assert stream.getvalue().endswith("  rules        5 of 5 rules ran (0.5 s)\n")


def test_quiet_or_no_terminal_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    assert console_progress(quiet=True) is SILENT
    assert console_progress(quiet=False) is SILENT  # pytest captures: not a terminal
    monkeypatch.setattr(console, "is_terminal", lambda *streams: True)
    assert isinstance(console_progress(quiet=False), ConsoleProgress)
    assert console_progress(quiet=True) is SILENT


class Recorder:
    def __init__(self) -> None:
        self.stages: list[tuple[str, str]] = []
        self.rules: list[tuple[int, int]] = []

    def stage(self, name: str, seconds: float, detail: str = "") -> None:
        assert seconds >= 0
        self.stages.append((name, detail))

    def rule_done(self, done: int, total: int) -> None:
        self.rules.append((done, total))


def test_direct_run_reports_each_stage_in_order(tmp_path: Path) -> None:
    s = settings(
        *(SAMPLE / f"{e}.csv" for e in ("claims", "notes", "plans")),
        tmp_path / "out",
        history=False,
        expectations=False,
    )
    seen = Recorder()
    out = run_direct(s, seen)
    assert [name for name, _ in seen.stages] == ["read", "validate", "rules", "findings", "report"]
    details = dict(seen.stages)
    rows = sum(i["rows_read"] for i in out.summary["inputs"].values())
    assert details["read"] == f"{rows:,} rows from 3 files"
    assert re.fullmatch(r"\d+ of \d+ rules ran", details["rules"])
    assert details["findings"].startswith(f"{out.summary['findings']:,} findings on ")
    total = seen.rules[-1][1]
    assert seen.rules == [(k, total) for k in range(1, total + 1)] and total > 10


def test_cli_progress_on_a_terminal_and_not_with_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo", "--out", str(tmp_path / "a"), "--no-history", "--no-expectations"]
    assert main(args) == 0
    assert capsys.readouterr().err == ""  # not a terminal: no progress
    monkeypatch.setattr(console, "is_terminal", lambda *streams: True)
    assert main(args) == 0
    err = capsys.readouterr().err
    assert re.search(r"^  read +[\d,]+ rows from 4 files \([\d.]+ s\)$", err, flags=re.M), err
    assert re.search(r"^  findings +[\d,]+ findings on [\d,]+ of 2,474 lines", err, flags=re.M)
    assert main([*args, "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_console_summary_uses_thousands_separators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "b"), "--no-history", "--no-expectations"]) == 0
    out = capsys.readouterr().out
    assert "2,474 read = 2,474 accepted + 0 quarantined" in out
    assert "audited 2,474 lines on 1,578 claims" in out
