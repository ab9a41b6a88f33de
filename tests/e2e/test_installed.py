"""An installed copy (not the editable one) carries everything it needs: the packages that
pyproject.toml's package settings select, built the way a wheel is built (setuptools' build_py, the
step that fills a wheel; no download), audit the shipped sample from `/` with the repository off
the import path, and every shipped data file, template and static file is in the built copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import ROOT

PACKAGES = ("flows", "checks", "schemas", "reports", "data")
# Files a package needs at run time besides its modules: what package-data must ship.
SHIPPED = ("data", "reports/templates", "reports/static")
# Not part of a source tree: the venv, VCS and tool caches, run outputs.
SKIP_AT_ROOT = {"out", "bench-cache", "build", "dist"}

CHILD = """
import json, sys
from flows.cli.main import main
code = main(["demo", "--out", sys.argv[1]])
mods = {
    name: getattr(module, "__file__", None) or ""
    for name, module in list(sys.modules.items())
    if name.split(".")[0] in {"flows", "checks", "schemas", "reports", "data"}
}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"code": code, "modules": mods}, f)
"""


def _ignore(folder: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n == "__pycache__" or n.endswith(".egg-info")}
    if Path(folder) == ROOT:
        skipped |= {n for n in names if n.startswith(".") or n in SKIP_AT_ROOT}
    return skipped


def _files(folder: Path) -> set[str]:
    return {
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("setuptools", reason="builds the package with the venv's setuptools")
    tmp = tmp_path_factory.mktemp("installed")
    source, lib = tmp / "source", tmp / "lib"
    # Built from a copy, so that setuptools' egg-info and build folders stay out of the clone.
    shutil.copytree(ROOT, source, ignore=_ignore)
    build = ["-c", "from setuptools import setup; setup()", "-q", "build_py", "--build-lib"]
    subprocess.run(
        [sys.executable, *build, str(lib)],
        cwd=source,
        check=True,
        capture_output=True,
    )
    return lib


def test_built_copy_ships_every_data_file(installed: Path) -> None:
    for folder in SHIPPED:
        assert _files(ROOT / folder) - _files(installed / folder) == set(), folder
    assert {p.name for p in installed.iterdir()} == set(PACKAGES)


def test_installed_copy_runs_the_demo_from_anywhere(installed: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "demo", tmp_path / "child.json"
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME"}}
    env["PYTHONPATH"] = str(installed)
    env.pop("PREFECT_API_URL", None)  # the direct mode, as the demo runs on a fresh machine
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), str(report)],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    child = json.loads(report.read_text(encoding="utf-8"))
    assert child["code"] == 0, done.stderr[-2000:]
    files = [Path(f) for f in child["modules"].values() if f]
    assert files, "no project module was imported"
    from_repo = [str(f) for f in files if f.resolve().is_relative_to(ROOT)]
    assert from_repo == [], "the run imported the repository, not the installed copy"
    assert all(f.resolve().is_relative_to(installed) for f in files)
    assert {"flows.cli.main", "data", "reports.render"} <= set(child["modules"])
    assert str(installed / "data" / "sample") in done.stdout
    for name in ("report.html", "findings.csv", "summary.json"):
        assert (out / name).stat().st_size > 0, name
    findings = (out / "findings.csv").read_text(encoding="utf-8").splitlines()
    assert len(findings) > 1
