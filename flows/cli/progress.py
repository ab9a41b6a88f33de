"""Progress of a direct-mode run on a terminal: one line per stage with its counts and elapsed
time on stderr, and a progress bar (rich, already installed with Prefect) while the rules run.

Silent when stdout or stderr is not a terminal (a log file, a pipe, cron) or with `--quiet`,
so scripted runs keep the summary lines only. Counts carry thousands separators.
"""

from __future__ import annotations

import sys
from typing import Any, TextIO

from flows.run.progress import SILENT, Progress

# Fewer rule runs than this finish too fast for a bar to be worth drawing.
BAR_FROM_RULES = 2


class ConsoleProgress:
    """Stage lines on `stream`; the rules' bar is drawn by rich on the same stream."""

    def __init__(self, stream: TextIO | None = None, *, bar: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.bar = bar
        self._live: Any = None
        self._task: Any = None

    def stage(self, name: str, seconds: float, detail: str = "") -> None:
        self._close_bar()
        text = f"  {name:<13}{detail}" + (" " if detail else "") + f"({seconds:,.1f} s)"
        print(text, file=self.stream, flush=True)

    def rule_done(self, done: int, total: int) -> None:
        if not self.bar or total < BAR_FROM_RULES:
            return
        if self._live is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._live = Progress(
                TextColumn("  rules        "),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("rule runs"),
                console=Console(file=self.stream),
                transient=True,
            )
            self._live.start()
            self._task = self._live.add_task("rules", total=total)
        self._live.update(self._task, completed=done, total=total)
        if done >= total:
            self._close_bar()

    def _close_bar(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live, self._task = None, None


def is_terminal(*streams: TextIO) -> bool:
    return all(getattr(s, "isatty", lambda: False)() for s in streams)


def console_progress(quiet: bool) -> Progress:
    """The progress a CLI run shows: stage lines and a bar on a terminal, else nothing."""
    if quiet or not is_terminal(sys.stdout, sys.stderr):
        return SILENT
    return ConsoleProgress()
