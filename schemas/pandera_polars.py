"""Pandera's polars API, loaded without its pandas half.

`import pandera` imports pandas (and pandera's pandas engine) whenever pandas is installed, and
Great Expectations installs it; pandera's first validation looks for pandas again (for its check
backends) and for hypothesis (for its data-synthesis strategies). That is over half a second of
every run, for APIs the contracts never use. Pandera's own polars-only path, taken when neither
is installed, is taken here by hiding both from this thread while pandera loads and validates a
one-row frame, which completes its set-up. If pandera or pandas is already imported (a caller's
own code, a test), pandera loads as usual; both serve `pandera.polars` the same way. A program
that uses pandera's pandas API (`pandera.pandas`) or its strategies beside the audit imports
pandera (or pandas) before it; pandas itself, imported later, works as usual.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

# Loaded before the hiding: a library first imported while pandas is hidden would take it for
# absent for good (polars' pandas and hypothesis interop).
import numpy  # noqa: F401
import polars as pl

# what pandera looks for and the contracts do not use
HIDDEN = frozenset({"pandas", "hypothesis"})


class _Hide(importlib.abc.MetaPathFinder):
    """Answers "no module named ..." for HIDDEN to one thread, the one loading pandera: another
    thread importing them meanwhile gets them as usual."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        top = fullname.split(".")[0]
        if threading.get_ident() == self.thread and top in HIDDEN:
            # the exact message pandera recognises as "not installed"
            raise ModuleNotFoundError(f"No module named '{top}'", name=top)
        return None


def _first_validation(pa: ModuleType) -> None:
    """One validation with a built-in check: pandera registers its polars backends and checks
    (looking for pandas and hypothesis) on its first."""
    schema = pa.DataFrameSchema({"n": pa.Column(pl.Int64, pa.Check.ge(0))})
    schema.validate(pl.DataFrame({"n": [1]}))


def load() -> ModuleType:
    """pandera.polars, set up without pandas unless pandera or pandas is already loaded."""
    if "pandera" in sys.modules or "pandas" in sys.modules:
        return importlib.import_module("pandera.polars")
    hide = _Hide()
    sys.meta_path.insert(0, hide)
    try:
        pa = importlib.import_module("pandera.polars")
        _first_validation(pa)
        return pa
    finally:
        sys.meta_path.remove(hide)


load()
