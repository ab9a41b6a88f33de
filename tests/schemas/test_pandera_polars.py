"""The contracts load pandera without pandas (schemas/pandera_polars.py): in a fresh process,
where nothing imported pandas first, pandas and hypothesis stay unloaded through validations,
the contract's truth table reads the same as in a process where pandas was imported first (and
pandera took its usual path), and pandas imported afterwards still works with polars."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.schemas.test_contract import CASES
from tests.support.paths import ROOT

# `{first}`: what the process imports before anything else.
SCRIPT = """
import json, sys
{first}
import schemas
from schemas.validate import validate_export
from schemas.normalize import normalize
from tests.support.rows import text_frame, valid_row
import pandera
with open(sys.argv[1]) as f:
    cases = json.load(f)
def check(e, frame):
    normalized = normalize(e, frame)
    return validate_export(e, normalized.typed, normalized.failures)
problems = [check(e, text_frame([valid_row(e, **{{c: v}})])).problems.rows() for e, c, v in cases]
loaded = sorted({{"pandas", "hypothesis"}} & set(sys.modules))
pandas_api = hasattr(pandera, "DataFrameSchema")
import pandas as pd, polars as pl
interop = pl.from_pandas(pd.DataFrame({{"n": [1, 2]}})).height
print(json.dumps({{"loaded": loaded, "pandas_api": pandas_api, "interop": interop,
                  "problems": problems}}, default=str))
"""


def _run(first: str, cases: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(first=first), str(cases)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out: dict[str, Any] = json.loads(done.stdout)
    return out


def test_contract_reads_the_same_without_pandas(tmp_path: Path) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([[e, c, v] for e, c, v, _ in CASES]))
    hidden = _run("", cases)  # as `therapy-audit run` imports: schemas before any pandas
    usual = _run("import pandas", cases)
    assert hidden["loaded"] == []
    assert hidden["pandas_api"] is False  # pandera took its polars-only path
    assert usual["pandas_api"] is True  # ... and here its usual one
    assert hidden["problems"] == usual["problems"]
    assert sum(map(len, hidden["problems"])) >= len(CASES) // 2  # problems to compare, not none
    assert hidden["interop"] == usual["interop"] == 2  # polars still sees pandas afterwards
