"""Writing the output folder so that a crash, a kill or a full disk never passes for a result.

What a reader of `--out` can rely on (README, "What `run` writes"):

- Every file is written under a temporary name in the same folder (`.<stem>.partial<suffix>`)
  and renamed into place (`os.replace`, atomic within one file system): a file under its real
  name is always whole.
- `run.json` is written last and marks a complete run: every file it lists is of that run.
- A run into a folder that holds an earlier run first removes that run's `run.json`, then its
  other outputs and any temporary file left by a crash, before it writes anything: the folder
  never shows one run's files beside another's as if they belonged together.
- A write that fails for lack of space (ENOSPC, EDQUOT, EFBIG) becomes one OSError naming the
  file; the temporary file is removed and no file of that name is left behind.

`replacing(path)` is the one way to write an output: write to the path it yields.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flows.outputs.files import PACKET_PAGES, PACKETS_DIR, RUN_FILES, RUN_JSON

PARTIAL = ".partial"
# polars and xlsxwriter wrap the operating system's error in their own exception, quoting it
_OS_ERROR = re.compile(r"(?:os error|Errno) (\d+)")


def partial_path(final: Path) -> Path:
    """The temporary name `final` is written under (hidden; the suffix kept for the writers
    that choose a format by it)."""
    return final.with_name(f".{final.stem}{PARTIAL}{final.suffix}")


def _os_error(exc: BaseException) -> int | None:
    if isinstance(exc, OSError) and exc.errno:
        return exc.errno
    found = _OS_ERROR.search(str(exc))
    return int(found.group(1)) if found else None


@contextmanager
def replacing(final: Path) -> Iterator[Path]:
    """Yield the temporary path to write `final` to; rename it into place when the block ends
    without error. On any error the temporary file is removed; an operating-system error from
    any writer (disk full, file too large, ...) is raised as one OSError naming `final`."""
    partial = partial_path(final)
    try:
        yield partial
        os.replace(partial, final)
    except Exception as exc:
        code = _os_error(exc)
        if code is None:
            raise
        raise OSError(code, f"could not write: {os.strerror(code)}", str(final)) from None
    finally:
        partial.unlink(missing_ok=True)


def write_text(final: Path, text: str) -> Path:
    """`final` holding `text` (UTF-8), written through `replacing`."""
    with replacing(final) as partial:
        partial.write_text(text, encoding="utf-8")
    return final


def begin_run(out_dir: Path, names: Iterable[str] = RUN_FILES) -> None:
    """Make `out_dir` ready for a new run's files: the previous run's run.json goes first (so
    the folder stops claiming a complete run), then its other outputs and stale temporary
    files. Only names this program writes are touched."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RUN_JSON).unlink(missing_ok=True)
    for name in names:
        (out_dir / name).unlink(missing_ok=True)
    # the previous run's packets, so that the folder never mixes two runs' pages
    packets = out_dir / PACKETS_DIR
    if packets.is_dir() and not packets.is_symlink():
        for pattern in PACKET_PAGES:
            for page in packets.glob(pattern):
                if page.is_file():
                    page.unlink(missing_ok=True)
    for stale in out_dir.glob(f".*{PARTIAL}*"):
        if stale.is_file():
            stale.unlink(missing_ok=True)
