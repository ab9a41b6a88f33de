"""The `therapy-audit` entry point starts the Great Expectations worker before the audit's own
imports only when the command line asks for an audit with expectations, imports nothing heavy
before deciding, and leaves no worker behind however the command ends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from flows.cli.entry import ends_at_once, wants_expectations

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--claims", "c.csv", "--out", "o"], True),
        (["demo"], True),
        (["demo", "--out", "o"], True),
        (["run", "--claims", "c.csv", "--no-expectations"], False),
        (["run", "--help"], False),
        (["run", "-h"], False),
        (["--help"], False),
        (["--version"], False),
        ([], False),
        (["validate", "--claims", "c.csv"], False),
        (["sample", "draw"], False),
        (["generate", "--out", "o"], False),
        (["serve"], False),
        (["packet"], False),
        (["run", "--no-exp"], False),
        (["run", "--no-expect", "--claims", "c.csv"], False),
        (["run", "--no-e"], False),  # argparse takes it for --no-expectations
        (["run", "--no-"], True),  # ambiguous for argparse: an error, not a skip
        (["run", "--no-history"], True),
    ],
)
def test_the_worker_starts_early_only_for_an_audit_with_expectations(
    argv: list[str], expected: bool
) -> None:
    assert wants_expectations(argv) is expected


def test_the_console_script_is_the_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["therapy-audit"] == "flows.cli.entry:console"


def test_deciding_imports_neither_polars_nor_pandera_nor_great_expectations() -> None:
    code = (
        "import sys\n"
        "from flows.cli.entry import wants_expectations\n"
        "import flows.expectations.runner\n"
        "heavy = {'polars', 'pandera', 'pandas', 'great_expectations'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_bad_command_line_ends_in_one_line_and_leaves_no_worker(tmp_path: Path) -> None:
    """The worker started for `run` is killed at exit when the options turn out bad (exit 2)."""
    code = (
        "import sys\n"
        "from flows.cli.entry import main\n"
        "from flows.expectations import runner\n"
        "rc = main(['run', '--claims', sys.argv[1], '--out', sys.argv[2]])\n"
        "assert runner.worker_started(), 'the worker was not started early'\n"
        "print(runner._worker.pid)\n"
        "sys.exit(rc)\n"
    )
    missing = tmp_path / "missing.csv"
    done = subprocess.run(
        [sys.executable, "-c", code, str(missing), str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    _assert_gone(int(done.stdout.split()[-1]))


def _assert_gone(pid: int) -> None:
    """Killed and reaped at exit: gone (or, on a busy machine, about to be)."""
    status = Path(f"/proc/{pid}/status")
    deadline = time.monotonic() + 10
    while status.exists() and time.monotonic() < deadline:
        state = next((s for s in _read(status).splitlines() if s.startswith("State:")), "")
        if "Z" in state.split()[1:2]:
            break  # a zombie only waits for init: nothing runs
        time.sleep(0.1)
    else:
        assert not status.exists(), "the worker outlived the command"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:  # gone between the check and the read
        return ""


@pytest.mark.parametrize(
    ("argv", "loaded", "expected"),
    [
        (["run", "--claims", "c.csv", "--out", "o"], set(), True),
        (["demo"], set(), True),
        (["run", "--claims", "c.csv", "--orchestrate"], {"prefect"}, False),
        (["run", "--claims", "c.csv", "--dask-address", "tcp://h:8786"], {"distributed"}, False),
        (["run", "--claims", "c.csv", "--patient-partitions", "2"], {"multiprocessing"}, False),
        (["serve"], set(), False),
        (["sample", "draw"], set(), False),
        ([], set(), False),
    ],
)
def test_only_an_audit_in_this_process_alone_ends_at_once(
    argv: list[str], loaded: set[str], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("prefect", "distributed", "multiprocessing"):
        if name in loaded:
            monkeypatch.setitem(sys.modules, name, sys)  # any module object: loaded
        else:
            monkeypatch.delitem(sys.modules, name, raising=False)
    assert ends_at_once(argv) is expected


def test_the_command_ending_at_once_has_said_and_written_everything(tmp_path: Path) -> None:
    """The console script's audit ends without the interpreter's teardown: its summary reaches a
    pipe (buffered, so flushed before the end), its outputs are whole, its exit code is the
    command's and its expectations worker does not outlive it."""
    pid_file, mark = tmp_path / "worker.pid", tmp_path / "ended-at-once"
    code = (
        "import sys\n"
        "from flows.expectations import runner\n"
        "start = runner.start_worker\n"
        "def start_and_tell():\n"
        "    start()\n"
        f"    open({str(pid_file)!r}, 'w').write(str(runner._worker.pid))\n"
        "runner.start_worker = start_and_tell\n"
        "import os\n"
        "exit_now = os._exit\n"
        "def marked(code):\n"
        f"    open({str(mark)!r}, 'w').write(str(code))\n"
        "    exit_now(code)\n"
        "os._exit = marked\n"
        "from flows.cli.entry import console\n"
        "console()\n"
    )
    out = tmp_path / "out"
    # a pipe's output is block-buffered unless the environment says otherwise
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    done = subprocess.run(
        [sys.executable, "-c", code, "demo", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("therapy-audit demo: audited the synthetic sample")
    assert done.stdout.rstrip().splitlines()[-1].startswith("report:")
    assert json.loads((out / "run.json").read_text())["timings"]["report"] >= 0
    assert len((out / "findings.csv").read_text().splitlines()) == 505  # the demo's 504 findings
    assert mark.read_text() == "0"  # it ended at once: the rest held on that path
    _assert_gone(int(pid_file.read_text()))
    mark.unlink()
    bad = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "run",
            "--claims",
            str(tmp_path / "no.csv"),
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert bad.returncode == 2
    assert len(bad.stderr.strip().splitlines()) == 1
    assert mark.read_text() == "2"
    _assert_gone(int(pid_file.read_text()))
