"""The contracts load pandera without pandas (schemas/pandera_polars.py): in a fresh process,
where nothing imported pandas first, pandas stays unloaded and the contract's truth table reads
the same as in this one."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.schemas.test_contract import CASES, check
from tests.support.rows import text_frame, valid_row

ROOT = Path(__file__).resolve().parents[2]

# Imports schemas before anything else can import pandas, as `therapy-audit run` does.
SCRIPT = """
import json, sys
import schemas
from tests.schemas.test_contract import CASES, check
from tests.support.rows import text_frame, valid_row
import pandera
out = {"pandas": "pandas" in sys.modules, "pandas_api": hasattr(pandera, "DataFrameSchema"),
       "reasons": [check(e, text_frame([valid_row(e, **{c: v})])).problems["reason"].to_list()
                   for e, c, v, _ in CASES]}
print(json.dumps(out))
"""


def test_contract_reads_the_same_without_pandas() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout)
    assert out["pandas"] is False
    assert out["pandas_api"] is False  # pandera took its polars-only path
    here = [
        check(e, text_frame([valid_row(e, **{c: v})])).problems["reason"].to_list()
        for e, c, v, _ in CASES
    ]
    assert out["reasons"] == here
    assert any(out["reasons"])  # the table has failing rows: the comparison is not of nothing
