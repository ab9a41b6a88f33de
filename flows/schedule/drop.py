"""What a scheduled audit reads: the newest exports in a drop folder, and its audit period.

Plain functions (no Prefect): `therapy-audit serve` and the flow call them at run time, tests
call them directly.

**Drop-folder layout.** The billing system (or a person) drops each new export into one folder.
For each export (the claims, and the optional notes, plans and providers: a folder of claims
alone is a claims-only audit) the newest file by modification time is audited:

- a subfolder named after the export (`DIR/claims/`, `DIR/notes/`, `DIR/plans/`): its newest
  input file (`.csv` / `.parquet` / `.xlsx`: the types of flows/inputs/formats); otherwise
- a file directly in DIR whose name starts with the export's name, any case
  (`claims-2026-03.csv`, `Notes_march.xlsx`, `plans.parquet`): the newest of those.

Hidden files and Excel lock files (`~$…`) are ignored, as ingest ignores them; on equal
modification times the file name that sorts last wins, so the choice never depends on directory
order. Older files stay where they are (they are the record of earlier runs).

The folder is untrusted too: a symbolic link (file or subfolder) that leads out of the drop
folder is ignored; a file modified in the future (more than FUTURE_SLACK_S ahead of the clock)
is not yet stable and is ignored, or it would win every run; a file that disappears between the
listing and its turn is skipped with a warning naming the export (never the file: names may
carry patient ids).

**Windows.** The audit period of a scheduled run is a rolling window relative to the day the run
was scheduled for (`today`): `last-month` (the last full calendar month, the default),
`last-quarter` (the last full calendar quarter), `last-week` (the last full Monday-Sunday week),
`last-N-days` (the N days before today), `month-to-date` (the 1st of this month to yesterday),
or `none` (no period: every claim line is audited).

The period limits the audit: only claim lines dated within it are audited, the others are
counted as outside the period (checks/period.py).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from checks.period import Period
from flows.inputs.formats import is_ignored, is_input, is_input_type, listed
from schemas.contract import EXPORTS, OPTIONAL_EXPORTS
from schemas.errors import InputError

WINDOWS = ("last-month", "last-quarter", "last-week", "last-N-days", "month-to-date", "none")
DEFAULT_WINDOW = "last-month"
_DAYS = re.compile(r"^last-(\d{1,4})-days?$")


# a copy from a machine whose clock runs a little ahead is not "from the future"
FUTURE_SLACK_S = 300
_LOG = logging.getLogger(__name__)


def _inside(path: Path, root: Path) -> bool:
    """`path`, links followed, lies within `root` (already resolved)."""
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # a dangling link loop
        return False


def _candidates(
    folder: Path, prefix: str | None, root: Path, now_ns: int, export: str
) -> list[tuple[int, str, Path]]:
    """(modification time, name, path) of the input files of `folder` (module doc)."""
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for p in entries:
        if prefix is not None and not p.name.casefold().startswith(prefix):
            continue
        if is_ignored(p) or not is_input_type(p):
            continue
        if p.is_symlink() and not _inside(p, root):
            continue  # a link out of the drop folder: nobody dropped that file here
        try:
            info = p.stat()
            # the input types' own test too (a .txt file is an input only when it is X12)
            wanted = stat.S_ISREG(info.st_mode) and is_input(p)
        except FileNotFoundError:
            _LOG.warning("a %s file vanished from the drop folder while it was listed: skipped",
                         export)  # fmt: skip
            continue
        if not wanted or info.st_mtime_ns > now_ns:
            continue
        found.append((info.st_mtime_ns, p.name, p))
    return found


def newest_exports(folder: str | os.PathLike[str], now: float | None = None) -> dict[str, Path]:
    """export -> the file to audit (see the module docstring for the layout). The optional
    exports (notes, plans, providers) are picked the same way when the folder holds them, else
    left out. `now`: the clock (seconds since the epoch); files dated after it (plus
    FUTURE_SLACK_S) are not taken."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(f"drop folder '{root}' does not exist or is not a folder")
    real = root.resolve()
    now_ns = int(((time.time() if now is None else now) + FUTURE_SLACK_S) * 1e9)
    picked: dict[str, Path] = {}
    for export in (*EXPORTS, *OPTIONAL_EXPORTS):
        sub = root / export
        inside = sub.is_dir() and (not sub.is_symlink() or _inside(sub, real))
        files = _candidates(sub, None, real, now_ns, export) if inside else []
        if not files:
            files = _candidates(root, export, real, now_ns, export)
        if not files and export in OPTIONAL_EXPORTS:
            continue
        if not files:
            raise InputError(
                f"drop folder '{root}' has no {export} export: expected a file named "
                f"{export}*{listed()}, or a '{export}' subfolder holding one (links out of the "
                "folder and files dated in the future are not taken)"
            )
        # (mtime, name): a deterministic choice when two files were written in the same second
        picked[export] = max(files)[2]
    return picked


def check_window(window: str) -> str:
    """`window` unchanged when it is one of WINDOWS (N a whole number >= 1), else InputError."""
    match = _DAYS.match(window)
    if (match and int(match.group(1)) >= 1) or (window in WINDOWS and window != "last-N-days"):
        return window
    raise InputError(
        f"unknown window '{window}': use last-month, last-quarter, last-week, last-N-days "
        "(e.g. last-7-days), month-to-date or none"
    )


def window_period(window: str, today: date) -> Period | None:
    """The audit period (first and last day, inclusive) of `window` for a run on `today`."""
    check_window(window)
    if window == "none":
        return None
    first_of_month = today.replace(day=1)
    if window == "last-month":
        end = first_of_month - timedelta(days=1)
        return end.replace(day=1), end
    if window == "last-quarter":
        quarter_start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        end = quarter_start - timedelta(days=1)
        return end.replace(month=end.month - 2, day=1), end
    if window == "last-week":
        end = today - timedelta(days=today.weekday() + 1)  # the last Sunday before today
        return end - timedelta(days=6), end
    if window == "month-to-date":
        end = today - timedelta(days=1)
        # on the 1st there is no day of this month before today: the last full month instead
        return (end.replace(day=1), end) if today.day > 1 else window_period("last-month", today)
    match = _DAYS.match(window)
    assert match  # check_window accepted it
    end = today - timedelta(days=1)
    return end - timedelta(days=int(match.group(1)) - 1), end


def parse_period(text: str | Period | list[str] | None) -> Period | None:
    """`START..END` (ISO dates, inclusive), a pair of ISO strings or dates, or None."""
    if text is None or text == "":
        return None
    if isinstance(text, str):
        parts = text.split("..")
        if len(parts) != 2:
            raise InputError(f"period '{text}' must be START..END, e.g. 2026-01-01..2026-03-31")
    else:
        parts = [*text]
        if len(parts) != 2:
            raise InputError("a period needs a start and an end date")
    try:
        start, end = (p if isinstance(p, date) else date.fromisoformat(p.strip()) for p in parts)
    except ValueError:
        raise InputError(f"period '{text}': dates must be ISO, e.g. 2026-01-31") from None
    if end < start:
        raise InputError(f"period '{text}' ends before it starts")
    return start, end


def format_period(period: Period | None) -> str | None:
    return None if period is None else f"{period[0].isoformat()}..{period[1].isoformat()}"


@dataclass(frozen=True)
class DropRun:
    """One scheduled run: the files to audit, the period, and where the outputs go."""

    exports: dict[str, Path]
    period: Period | None
    out_dir: Path
    scope: str


def drop_scope(folder: str | os.PathLike[str], profile: str | None) -> str:
    """The history scope of a drop folder: the same folder and profile, the same series, while
    the files in it change every month (their paths would give every month its own scope)."""
    text = f"{Path(folder).resolve()}\n{profile or '(profile by payer type)'}"
    return "drop-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def plan_drop_run(
    folder: str | os.PathLike[str],
    out: str | os.PathLike[str],
    window: str,
    today: date,
    run_id: str,
    *,
    profile: str | None = None,
    scope: str | None = None,
    period: Period | None = None,
) -> DropRun:
    """The newest exports of `folder`, the window's period (an explicit `period` wins) and the
    output folder `out/<run_id>/`."""
    check_window(window)
    return DropRun(
        exports=newest_exports(folder),
        period=period if period is not None else window_period(window, today),
        out_dir=Path(out) / run_id,
        scope=scope or drop_scope(folder, profile),
    )
