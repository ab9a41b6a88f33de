"""Pandera's polars API, loaded without its pandas half.

`import pandera` imports pandas (and pandera's pandas engine) whenever pandas is installed, and
Great Expectations installs it: half a second of every run's start, for an API the contracts
never use. Pandera's own polars-only path, taken when pandas is not installed, is taken here by
hiding pandas from this thread while pandera loads. If pandas is already imported (a caller's
own code, a test), pandera loads as usual; both serve `pandera.polars` the same way. A program
that uses pandera's pandas API beside the audit imports pandera (or pandas) before it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import ModuleType


class _HidePandas(importlib.abc.MetaPathFinder):
    """Answers "no module named 'pandas'" to one thread, the one loading pandera: another
    thread importing pandas meanwhile gets it as usual."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if threading.get_ident() == self.thread and fullname.split(".")[0] == "pandas":
            # the exact message pandera's __init__ recognises as "pandas is not installed"
            raise ModuleNotFoundError("No module named 'pandas'", name="pandas")
        return None


def load() -> ModuleType:
    """pandera.polars, imported without pandas unless pandera or pandas is already loaded."""
    if "pandera" in sys.modules or "pandas" in sys.modules:
        return importlib.import_module("pandera.polars")
    hide = _HidePandas()
    sys.meta_path.insert(0, hide)
    try:
        return importlib.import_module("pandera.polars")
    finally:
        sys.meta_path.remove(hide)


load()
