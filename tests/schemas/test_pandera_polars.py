"""The contracts load pandera without pandas (schemas/pandera_polars.py): in a fresh process,
where nothing imported pandas first, pandas and hypothesis stay unloaded through validations and
the contract's truth table reads the same as in this one."""

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
from schemas.validate import validate_export
from schemas.normalize import normalize
from tests.support.rows import text_frame, valid_row
import pandera
with open(sys.argv[1]) as f:
    cases = json.load(f)
def check(e, frame):
    normalized = normalize(e, frame)
    return validate_export(e, normalized.typed, normalized.failures)
reasons = [check(e, text_frame([valid_row(e, **{c: v})])).problems["reason"].to_list()
           for e, c, v in cases]
out = {"loaded": sorted({"pandas", "hypothesis"} & set(sys.modules)),
       "pandas_api": hasattr(pandera, "DataFrameSchema"), "reasons": reasons}
print(json.dumps(out))
"""


def test_contract_reads_the_same_without_pandas(tmp_path: Path) -> None:
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([[e, c, v] for e, c, v, _ in CASES]))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(cases)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    out = json.loads(done.stdout)
    assert out["loaded"] == []
    assert out["pandas_api"] is False  # pandera took its polars-only path
    here = [
        check(e, text_frame([valid_row(e, **{c: v})])).problems["reason"].to_list()
        for e, c, v, _ in CASES
    ]
    assert out["reasons"] == here
    assert any(out["reasons"])  # the table has failing rows: the comparison is not of nothing
