"""Stand-ins for modules that Great Expectations imports as it is imported but that the dataset
expectations never run.

GE imports every one of its core expectations with its own import. One of them (the KL-divergence
expectation) imports `scipy.stats` and `altair` at its top, for its statistics and its charts;
together they are about a third of GE's import, and the two expectations the audit uses
(flows/expectations/runner.py) need neither. In the expectations worker each is a stand-in that
imports the real module the first time anything of it is read — an attribute, its `__path__` for
a submodule's import, `dir()` — so that GE works as before if anything does use them. Reading
what every module object has (`__name__`, `__spec__`) imports nothing.

`importlib.util.LazyLoader` does not serve here: Python 3.11's `import altair as alt` reads the
module's `__spec__`, which makes a lazy module load itself at once.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types

# the modules GE imports for expectations the audit never runs (checked by the tests)
DEFERRED = ("scipy.stats", "altair")

# one real import at a time: a second reader waits for the first one's module (re-entrant: one
# real module may read another stand-in as it is imported)
_loading = threading.RLock()


class Deferred(types.ModuleType):
    """A module that imports the real one of its name on first use and hands every attribute
    it does not have itself on to it."""

    def __getattr__(self, attr: str) -> object:
        return getattr(real_module(self), attr)

    def __dir__(self) -> list[str]:
        return dir(real_module(self))


def real_module(stand_in: Deferred) -> types.ModuleType:
    """The real module behind `stand_in`, imported now if it is not yet (the stand-in leaves
    sys.modules for it; it stays there if the import fails, for a later try)."""
    name = stand_in.__name__
    with _loading:
        if sys.modules.get(name) is stand_in:
            del sys.modules[name]
            try:
                module = importlib.import_module(name)
            except BaseException:
                sys.modules[name] = stand_in
                raise
            parent, _, child = name.rpartition(".")
            if parent in sys.modules:
                setattr(sys.modules[parent], child, module)
            return module
    # imported already, or being imported by another thread, which import_module waits for
    return importlib.import_module(name)


def defer(names: tuple[str, ...] = DEFERRED) -> None:
    """Put a stand-in in sys.modules for each of `names` not imported yet (before GE's import)."""
    for name in names:
        if name not in sys.modules:
            sys.modules[name] = Deferred(name)
