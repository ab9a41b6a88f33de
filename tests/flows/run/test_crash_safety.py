"""The output folder under crashes: a run killed (kill -9) at random points, and a disk that
fills up mid-run. Whatever happens, either run.json is absent or every file it lists is whole and
of that run; a file under its final name is never cut short; a full disk is one line, exit 2."""

from __future__ import annotations

import errno
import json
import random
import resource
import signal
import subprocess
import sys
import time
import zipfile
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest

from flows.outputs.atomic import PARTIAL, begin_run, replacing, write_text
from flows.outputs.files import RUN_FILES, RUN_JSON
from tests.support.paths import SAMPLE_INPUTS

ARGS = [*(f"--{p.stem}={p}" for p in SAMPLE_INPUTS), "--no-history", "--no-expectations"]
SEEDS = (1, 2, 3, 4, 5, 6)


def _command(out: Path) -> list[str]:
    return [sys.executable, "-m", "flows.cli.main", "run", *ARGS, "--out", str(out)]


def _whole(path: Path) -> bool:
    """The file is complete for its type (a cut file fails to parse or lacks its end)."""
    try:
        if path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".html":
            return path.read_text(encoding="utf-8").rstrip().endswith("</html>")
        elif path.suffix == ".csv":
            pl.read_csv(path, infer_schema=False)
            return path.read_bytes().endswith(b"\n")
        elif path.suffix == ".parquet":
            pl.read_parquet(path)
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as z:
                return z.testzip() is None
    except Exception:
        return False
    return True


def check_folder(out: Path) -> str:
    """'complete' or 'incomplete'; fails the test on a cut file or two runs mixed."""
    present = {p.name for p in out.iterdir() if p.is_file() and PARTIAL not in p.name}
    for name in present & set(RUN_FILES):
        assert _whole(out / name), f"{name} is cut short under its final name"
    if RUN_JSON not in present:
        return "incomplete"
    run = json.loads((out / RUN_JSON).read_text(encoding="utf-8"))
    started = datetime.fromisoformat(run["started_at"]).timestamp()
    finished = datetime.fromisoformat(run["finished_at"]).timestamp()
    listed = set(run["outputs"])
    assert present & set(RUN_FILES) <= listed, "a file beside run.json that it does not list"
    for name in listed:
        assert (out / name).is_file(), f"run.json lists {name}, which is missing"
        # written by this run: not left from the one before, not by a later run beside it
        written = (out / name).stat().st_mtime
        assert started - 0.5 <= written <= finished + 0.5, f"{name} is not of the run"
    return "complete"


def test_kill_9_at_random_points_never_leaves_a_folder_that_lies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    begun = time.monotonic()
    subprocess.run(_command(out), check=True, capture_output=True, timeout=120)
    duration = time.monotonic() - begun
    assert check_folder(out) == "complete"
    seen = set()
    for seed in SEEDS:
        delay = random.Random(seed).uniform(0.3, 1.05) * duration
        proc = subprocess.Popen(_command(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        seen.add(check_folder(out))
    # a finished run after all the kills is whole again
    subprocess.run(_command(out), check=True, capture_output=True, timeout=120)
    assert check_folder(out) == "complete"
    assert not list(out.glob(f".*{PARTIAL}*")), "a new run clears stale temporary files"
    assert seen, seen


def _file_limit(limit: int):
    def apply() -> None:
        # a file growing past `limit` fails with EFBIG, as a full disk fails with ENOSPC
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("limit", [100_000, 250_000])  # the findings files, or the report
def test_a_full_disk_is_one_line_exit_2_and_no_cut_file(tmp_path: Path, limit: int) -> None:
    out = tmp_path / "out"
    subprocess.run(_command(out), check=True, capture_output=True, timeout=120)
    done = subprocess.run(_command(out), capture_output=True, text=True, timeout=120,
                          preexec_fn=_file_limit(limit))  # fmt: skip
    assert done.returncode == 2, done.stderr[-800:]
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "could not write: File too large" in done.stderr
    assert check_folder(out) == "incomplete"  # the previous run's run.json went first
    assert not list(out.glob(f".*{PARTIAL}*")), "temporary files are removed"


# ------------------------------------------------------------------------- the writer itself
@pytest.mark.parametrize(
    "failure",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        # polars and xlsxwriter wrap the error in their own exceptions
        pl.exceptions.ComputeError("parquet: underlying IO error: No space left (os error 28)"),
        RuntimeError("[Errno 28] No space left on device"),
    ],
)
def test_replacing_turns_a_full_disk_into_one_os_error(tmp_path: Path, failure: Exception) -> None:
    final = tmp_path / "report.html"
    final.write_text("previous")
    with pytest.raises(OSError) as caught, replacing(final) as partial:
        partial.write_text("<html>half")
        raise failure
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(final)
    assert final.read_text() == "previous"  # never replaced by the half-written file
    assert not partial.exists()


def test_a_bug_in_a_writer_is_not_disguised_as_a_disk_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError), replacing(tmp_path / "x.json"):
        raise KeyError("rule")
    assert list(tmp_path.iterdir()) == []


def test_begin_run_removes_run_json_first_then_the_outputs_only(tmp_path: Path) -> None:
    for name in (*RUN_FILES, "mine.txt", ".report.partial.html"):
        write_text(tmp_path / name, "{}")
    begin_run(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]


WORKBOOK = """
import sys
from pathlib import Path
import polars as pl
from flows.outputs.atomic import replacing
from flows.outputs.xlsx.workbook import write_xlsx
from schemas.findings import FINDINGS_SCHEMA
from tests.support import report_fixture as fx
rows = [fx.finding("UNITS-8MIN", "error", f"C{i}", 1, fx.P1, 5, 1.0, message="m" * 50)
        for i in range(3000)]
f = pl.DataFrame(rows, schema=FINDINGS_SCHEMA)
with replacing(Path(sys.argv[1]) / "findings.xlsx") as partial:
    write_xlsx(f, fx.summary(f), fx.RUN, partial)
"""


@pytest.mark.parametrize("limit", [2_000, 20_000])  # the first package, or its refill
def test_a_full_disk_in_the_workbook_writer_leaves_nothing_and_says_one_thing(
    tmp_path: Path, limit: int
) -> None:
    # the workbook once left a 0-byte findings.xlsx and a ZipFile.__del__ traceback
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-c", WORKBOOK, str(tmp_path)], cwd=root,
                          capture_output=True, text=True, timeout=120,
                          preexec_fn=_file_limit(limit))  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        f"OSError: [Errno 27] could not write: File too large: '{tmp_path / 'findings.xlsx'}'"
    )
    assert "Exception ignored" not in done.stderr
    assert list(tmp_path.iterdir()) == []
