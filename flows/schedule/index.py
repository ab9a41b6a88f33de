"""`serve`'s output folder index: index.html listing every run folder in it (each
`<out>/<run id>/` with its summary.json), rewritten after each scheduled run and when `serve`
starts (reports/index_view.py builds the page)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from reports.index_view import RunEntry, index_view, render_index

INDEX_HTML = "index.html"
log = logging.getLogger(__name__)


def _json(path: Path) -> dict[str, Any] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def run_entries(root: Path) -> list[RunEntry]:
    """The run folders directly in `root` with a readable summary.json (run.json optional); a
    folder whose files are unreadable or not JSON objects is left out, and counted in the log."""
    entries, skipped = [], 0
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        summary_path = folder / "summary.json"
        if not summary_path.is_file():
            continue
        summary = _json(summary_path)
        if summary is None:
            skipped += 1
            continue
        run = _json(folder / "run.json") or {}
        entries.append(RunEntry(folder.name, summary, run, (folder / "report.html").is_file()))
    if skipped:
        log.warning("index: %d run folder(s) with an unreadable summary.json left out", skipped)
    return entries


def write_index(root: Path) -> Path:
    """Write `root`/index.html (under a temporary name, then renamed into place)."""
    page = render_index(index_view(run_entries(root)))
    target = root / INDEX_HTML
    tmp = root / f".{INDEX_HTML}.part"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
