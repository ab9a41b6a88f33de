"""`--redact` leaving no patient id and no note text in any file of the run, its key never
written, and the demo command's options and console line. findings.xlsx is tested in
tests/flows/outputs/xlsx/."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from data import SAMPLE
from flows.cli.main import main
from flows.inputs import redact
from flows.run.direct import run_audit

NOTE = "Patient Jane Roe disclosed details about her therapy goals"


def phi_inputs(folder: Path) -> tuple[Path, Path, Path]:
    """The sample plus rows the contract quarantines (so original_values carry patient ids and
    note text) and an extra, unmapped column that holds a name."""
    folder.mkdir()
    claims = pl.read_csv(SAMPLE / "claims.csv", infer_schema=False)
    bad_claim = claims.head(1).with_columns(pl.lit("not-a-date").alias("service_date"))
    pl.concat([claims, bad_claim]).write_csv(folder / "claims.csv")
    notes = pl.read_csv(SAMPLE / "notes.csv", infer_schema=False).with_columns(
        pl.lit(NOTE).alias("note_text"), pl.lit("Jane Roe").alias("patient_name")
    )
    bad_note = notes.head(2).with_columns(pl.lit("99:99").alias("start_time"))
    pl.concat([notes, bad_note]).write_csv(folder / "notes.csv")
    plans = pl.read_csv(SAMPLE / "plans.csv", infer_schema=False)
    bad_plan = plans.head(1).with_columns(pl.lit("soon").alias("cert_end"))
    pl.concat([plans, bad_plan]).write_csv(folder / "plans.csv")
    return folder / "claims.csv", folder / "notes.csv", folder / "plans.csv"


def file_text(path: Path) -> str:
    """Everything a file says, whatever its format (Parquet and XLSX are compressed)."""
    if path.suffix == ".parquet":
        return pl.read_parquet(path).cast(pl.String).write_csv()
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as z:
            return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
    return path.read_bytes().decode("utf-8", "replace")


def test_redact_leaves_no_patient_id_or_note_text_anywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = phi_inputs(tmp_path / "in")
    monkeypatch.setenv(redact.KEY_ENV, "test-key")
    args = [
        "run",
        *(f"--{e}={p}" for e, p in zip(("claims", "notes", "plans"), inputs, strict=True)),
    ]
    assert main([*args, "--out", str(tmp_path / "r"), "--redact"]) == 0
    assert f"report: {tmp_path / 'r' / 'report.html'}" in capsys.readouterr().out
    plain = run_audit(*inputs, tmp_path / "plain")

    ids = set()
    for p in inputs:
        ids |= set(pl.read_csv(p, infer_schema=False)["patient_id"].drop_nulls())
    files = sorted((tmp_path / "r").iterdir())
    assert {f.name for f in files} >= {
        "report.html", "findings.csv", "findings.parquet", "findings.xlsx", "summary.json",
        "validation.json", "quarantine.csv", "quarantine.parquet",
    }  # fmt: skip
    for f in files:
        text = file_text(f)
        leaked = [i for i in ids if i in text]
        assert not leaked, f"{f.name} holds patient ids {leaked[:3]}"
        assert NOTE not in text and "Jane Roe" not in text, f.name
        assert "test-key" not in text, f.name

    # the unredacted run did carry them, so the check above can fail
    assert NOTE in file_text(tmp_path / "plain" / "quarantine.csv")
    assert any(i in file_text(tmp_path / "plain" / "report.html") for i in ids)
    # same audit: only the ids differ (and the history section: a second run of the scope)
    redacted = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert redacted.pop("history")["scope"] == plain.summary["history"]["scope"]
    assert redacted == {k: v for k, v in plain.summary.items() if k != "history"}
    quarantine = pl.read_parquet(tmp_path / "r" / "quarantine.parquet")
    assert quarantine.height == pl.read_parquet(plain.validation.quarantine_parquet).height > 0
    originals = [json.loads(v) for v in quarantine["original_values"]]
    assert all(o["patient_id"].startswith(redact.PREFIX) for o in originals)
    assert not any("note_text" in o or "patient_name" in o for o in originals)
    findings = pl.read_parquet(tmp_path / "r" / "findings.parquet")
    assert findings["patient_id"].str.starts_with(redact.PREFIX).all()


def test_pseudonyms_are_keyed_and_stable() -> None:
    ids = pl.Series("patient_id", [" P1", "P1 ", "P2", None, "  "])
    a = redact.hash_ids(ids, b"k1").to_list()
    assert a[0] == a[1] != a[2] and a[3] is None and a[4] is None
    assert a[0] == redact.pseudonym("P1", b"k1") != redact.pseudonym("P1", b"k2")
    assert re.fullmatch(r"PT-[0-9a-f]{20}", a[0])
    numeric = redact.hash_ids(pl.Series("patient_id", [12345.0]), b"k1")
    assert numeric.item() == redact.pseudonym("12345", b"k1")  # as the contract reads it


def test_random_key_is_per_run_and_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(redact.KEY_ENV, raising=False)
    assert redact.redaction_key({}) != redact.redaction_key({})
    assert redact.redaction_key({redact.KEY_ENV: "abc"}) == b"abc"
    known = bytes(range(32))
    monkeypatch.setattr(redact, "secrets", SimpleNamespace(token_bytes=lambda n: known))
    out = run_audit(*phi_inputs(tmp_path / "in"), tmp_path / "o", redact=True)
    assert out.redacted
    for f in (tmp_path / "o").iterdir():
        text = file_text(f)
        assert known.hex() not in text and known.decode("latin-1") not in text, f.name


def test_help_says_where_the_key_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "demo"):
        assert main([command, "--help"]) == 0
        text = " ".join(capsys.readouterr().out.split())
        assert "THERAPY_AUDIT_REDACT_KEY" in text and "not written anywhere" in text


def test_demo_prints_where_its_report_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path), "--report-limit", "5"]) == 0
    out = capsys.readouterr().out
    assert f"report: {tmp_path / 'report.html'}" in out.splitlines()
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "at most 5 per rule" in html
    assert main(["demo", "--out", str(tmp_path), "--report-limit", "0"]) == 2
