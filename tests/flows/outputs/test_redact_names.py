"""`--redact` and what the first pass missed: a patient id typed into a checked column (the
quarantine's reason quoted it) and file names carrying patient ids (run.json, validation.json,
the quarantine, the report, the workbook and the history named them)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest

from data import SAMPLE
from flows.cli.main import main
from flows.inputs import redact
from tests.flows.outputs.test_exports import file_text

MRN = "MRN48213"  # in every file name
TYPED = "Roe-J-7Q9X"  # a patient id typed into start_time and service_date


def _inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir()
    paths = {}
    for export in ("claims", "notes", "plans"):
        frame = pl.read_csv(SAMPLE / f"{export}.csv", infer_schema=False)
        if export == "notes":
            typed = frame.head(1).with_columns(pl.lit(TYPED).alias("start_time"))
            frame = pl.concat([frame, typed])
        if export == "claims":
            bad = frame.head(1).with_columns(pl.lit(TYPED).alias("service_date"))
            frame = pl.concat([frame, bad.with_columns(pl.lit("X-1").alias("claim_id"))])
        paths[export] = folder / f"{export}_{MRN}.csv"
        frame.write_csv(paths[export])
    return paths


def _history_text(db: Path) -> str:
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [t for (t,) in con.execute("select table_name from information_schema.tables")
                  .fetchall()]  # fmt: skip
        return "\n".join(str(con.execute(f'select * from "{t}"').fetchall()) for t in tables)


def test_redact_keeps_typed_ids_and_file_names_out_of_every_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(redact.KEY_ENV, "k")
    paths = _inputs(tmp_path / "in")
    out, db = tmp_path / "out", tmp_path / "h.duckdb"
    args = [f"--{e}={p}" for e, p in paths.items()]
    assert main(["run", *args, "--out", str(out), "--redact", "--history", str(db)]) == 0
    texts = {f.name: file_text(f) for f in out.iterdir()} | {"history": _history_text(db)}
    for name, text in texts.items():
        assert MRN not in text, f"{name} names an input file"
        assert TYPED not in text and "7Q9X" not in text, f"{name} quotes a typed id"
        assert str(tmp_path / "in") not in text, f"{name} holds an input path"

    # the files are named by export and content hash, which `sha256sum` finds again
    validation = json.loads((out / "validation.json").read_text())
    claims = validation["exports"]["claims"]
    assert claims["input"] == "claims"
    name = claims["files"][0]["source_file"]
    assert re.fullmatch(r"claims-[0-9a-f]{12}\.csv", name)
    quarantine = pl.read_csv(out / "quarantine.csv")
    assert set(quarantine["source_file"]) <= {
        f["source_file"] for e in validation["exports"].values() for f in e["files"]
    }
    assert set(quarantine["column"]) == {"service_date", "start_time"}
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"]["claims"]["name"] == f"claims-{run['inputs']['claims']['sha256'][:12]}"
    assert "path" not in run["inputs"]["claims"]
    # the report still hashes the files it read (it finds them in memory, not by name)
    digest = hashlib.sha256(paths["claims"].read_bytes()).hexdigest()
    assert digest in texts["report.html"] and name == f"claims-{digest[:12]}.csv"

    # without --redact the same outputs do name the files: the check above can fail
    plain = tmp_path / "plain"
    assert main(["run", *args, "--out", str(plain), "--no-history", "--no-expectations"]) == 0
    assert MRN in file_text(plain / "validation.json") and MRN in file_text(plain / "run.json")


def test_two_files_of_one_content_keep_distinct_names(tmp_path: Path) -> None:
    folder = tmp_path / f"claims_{MRN}"
    folder.mkdir()
    for n in ("a.csv", "b.csv", "c.parquet"):
        (folder / n).write_text("same")
    names = redact.redacted_names("claims", sorted(folder.iterdir()))
    assert names[0] != names[1] and names[0].endswith(".csv") and names[2].endswith(".parquet")
    assert names[1] == names[0].removesuffix(".csv") + "-2.csv"
    assert not any(MRN in n for n in names)
