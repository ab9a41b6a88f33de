"""What a runner tells whoever watches it: one call per finished stage, one per finished rule run.

The direct runner calls a `Progress` (flows/cli/progress.py draws it on a terminal); the default
is SILENT, so library callers and tests see nothing. Only counts and seconds pass through here,
never a patient id or note text.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def stage(self, name: str, seconds: float, detail: str = "") -> None:
        """Stage `name` finished in `seconds`; `detail` its counts, already formatted."""

    def rule_done(self, done: int, total: int) -> None:
        """`done` of `total` rule runs of the rules stage have finished."""


class Silent:
    def stage(self, name: str, seconds: float, detail: str = "") -> None:
        return None

    def rule_done(self, done: int, total: int) -> None:
        return None


SILENT: Progress = Silent()
