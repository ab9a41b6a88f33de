"""The expectations worker imports GE with stand-ins for scipy.stats and altair
(flows/expectations/deferred.py): the same outcomes as GE's usual import, neither module
loaded by the checks, and each loaded in full the moment anything uses it."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from flows.expectations.deferred import Deferred, defer, real_module
from tests.support.paths import ROOT

# failing and passing checks of both kinds, with failing codes (the worker's request format)
_PROBE = """
import json, sys
{setup}
from flows.expectations.runner import evaluate_here
frames = [
    ("metrics", {{"rows": [120.0], "share": [0.4]}},
     [("max", "rows", 100, 1000), ("max", "share", 0, 0.1)]),
    ("timed", {{"procedure_code": ["97110", "97530", "97140"], "mean_units": [1.8, 9.0, 0.2]}},
     [("each", "mean_units", 0.5, 4)]),
]
outcomes = evaluate_here(frames)
kinds = {{name: type(sys.modules.get(name)).__name__ for name in ("scipy.stats", "altair")}}
used = None
if {use}:
    from great_expectations.expectations.core import (
        expect_column_kl_divergence_to_be_less_than as kl,
    )
    used = [float(kl.stats.entropy([0.5, 0.5], [0.9, 0.1])), kl.alt.Chart.__name__]
    used.append({{n: type(sys.modules[n]).__name__ for n in ("scipy.stats", "altair")}})
print(json.dumps({{"outcomes": outcomes, "kinds": kinds, "used": used}}))
"""


def _probe(setup: str, use: bool = False) -> dict:
    code = _PROBE.format(setup=setup, use=use)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def worker_and_usual() -> tuple[dict, dict]:
    worker = _probe("from flows.expectations.runner import import_for_worker; import_for_worker()")
    usual = _probe("import great_expectations")
    return worker, usual


def test_the_worker_gets_the_outcomes_of_the_usual_import(
    worker_and_usual: tuple[dict, dict],
) -> None:
    worker, usual = worker_and_usual
    assert worker["outcomes"] == usual["outcomes"]
    assert worker["outcomes"] == {
        "rows": {"success": True, "error": None, "codes": []},
        "share": {"success": False, "error": None, "codes": []},
        "mean_units": {"success": False, "error": None, "codes": ["97140", "97530"]},
    }


def test_the_worker_never_loads_scipy_stats_or_altair(worker_and_usual: tuple[dict, dict]) -> None:
    worker, usual = worker_and_usual
    assert worker["kinds"] == {"scipy.stats": "Deferred", "altair": "Deferred"}
    assert usual["kinds"] == {"scipy.stats": "module", "altair": "module"}


def test_a_stand_in_loads_the_real_module_when_used() -> None:
    setup = "from flows.expectations.runner import import_for_worker; import_for_worker()"
    used = _probe(setup, use=True)["used"]
    assert used[0] == pytest.approx(0.5108256, abs=1e-6)  # KL(0.5,0.5 || 0.9,0.1)
    assert used[1] == "Chart"
    assert used[2] == {"scipy.stats": "module", "altair": "module"}


def _write_module(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(body, encoding="utf-8")


def test_deferred_imports_on_first_attribute_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write_module(tmp_path, "deferred_probe_mod", "LOADED = True\nVALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "deferred_probe_mod", raising=False)
    defer(("deferred_probe_mod",))
    stand_in = sys.modules["deferred_probe_mod"]
    try:
        assert isinstance(stand_in, Deferred)
        # what every module object has does not load it, nor does importing it again
        assert stand_in.__spec__ is None and stand_in.__name__ == "deferred_probe_mod"
        import deferred_probe_mod  # type: ignore[import-not-found]

        assert deferred_probe_mod is stand_in
        assert sys.modules["deferred_probe_mod"] is stand_in
        # first use: the real module replaces it, and the stand-in hands attributes on
        assert stand_in.VALUE == 42
        real = sys.modules["deferred_probe_mod"]
        assert isinstance(real, types.ModuleType) and not isinstance(real, Deferred)
        assert real_module(stand_in) is real
    finally:
        sys.modules.pop("deferred_probe_mod", None)


def test_a_module_already_imported_is_left_alone() -> None:
    json_module = sys.modules["json"]
    defer(("json",))
    assert sys.modules["json"] is json_module


def test_a_failed_import_keeps_the_stand_in_for_a_later_try(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    name = "deferred_probe_missing"
    defer((name,))
    stand_in = sys.modules[name]
    try:
        with pytest.raises(ModuleNotFoundError):
            stand_in.anything  # noqa: B018
        assert sys.modules[name] is stand_in
        _write_module(tmp_path, name, "anything = 'now here'\n")
        importlib.invalidate_caches()
        assert stand_in.anything == "now here"
    finally:
        sys.modules.pop(name, None)


def test_a_deferred_package_imports_its_submodules_and_dunders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A submodule's import reads the package's `__path__`: that is a use, and loads it; so do
    `__version__`, `__file__` and `dir()` (found in review: they had read as missing)."""
    package = tmp_path / "deferred_probe_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("__version__ = '1.2'\n", encoding="utf-8")
    (package / "sub.py").write_text("ANSWER = 7\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    names = ("deferred_probe_pkg", "deferred_probe_pkg.sub")
    try:
        defer(names[:1])
        stand_in = sys.modules["deferred_probe_pkg"]
        assert stand_in.__version__ == "1.2"
        assert stand_in.__file__.endswith("__init__.py")
        assert "__version__" in dir(stand_in)
        import deferred_probe_pkg.sub  # type: ignore[import-not-found]

        assert deferred_probe_pkg.sub.ANSWER == 7
        assert not isinstance(sys.modules["deferred_probe_pkg"], Deferred)
        # the same, starting from the submodule's import
        for name in names:
            sys.modules.pop(name, None)
        defer(names[:1])
        from deferred_probe_pkg.sub import ANSWER  # type: ignore[import-not-found]

        assert ANSWER == 7
    finally:
        for name in names:
            sys.modules.pop(name, None)


def test_readers_on_two_threads_get_one_real_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the real module takes a moment to import, so the second reader comes while it does
    _write_module(tmp_path, "deferred_probe_slow", "import time\ntime.sleep(0.3)\nVALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    defer(("deferred_probe_slow",))
    stand_in = sys.modules["deferred_probe_slow"]
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            got = list(pool.map(lambda _: real_module(stand_in), range(2)))
        assert got[0] is got[1] is sys.modules["deferred_probe_slow"]
        assert got[0].VALUE == 1
    finally:
        sys.modules.pop("deferred_probe_slow", None)
