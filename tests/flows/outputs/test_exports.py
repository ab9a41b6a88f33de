"""The files beside the report: findings.xlsx with a summary sheet and one sheet per
rule family, formula neutralisation in CSV and XLSX, and `--redact` leaving no patient id and no
note text in any file of the run."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from types import SimpleNamespace

import polars as pl
import pytest

from flows.cli.main import SAMPLE, main
from flows.inputs import redact
from flows.outputs.safe_csv import write_csv
from flows.outputs.xlsx import sheet_xml, workbook
from flows.outputs.xlsx.workbook import sheet_names, write_xlsx
from flows.run.direct import run_audit
from reports.view_model import InputFile, RunInfo
from schemas.findings import FINDINGS_SCHEMA
from tests.support import report_fixture as fx

FORMULAS = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rcmd"]


def hostile_findings() -> pl.DataFrame:
    rows = [
        fx.finding("UNITS-8MIN", "error", f"C{i}", 1, fx.P1, 5, 1.0, message=text, evidence=text)
        for i, text in enumerate(FORMULAS)
    ]
    rows.append(fx.finding("DOC-NO-NOTE", "error", "=C9", 1, "@P", 6, 2.0, patient="-P9"))
    return pl.DataFrame(rows, schema=FINDINGS_SCHEMA)


def xlsx_has_no_formula(path: Path) -> None:
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert "<f>" not in z.read(name).decode("utf-8"), name


def test_xlsx_and_csv_neutralise_formulas(tmp_path: Path) -> None:
    f = hostile_findings()
    run = RunInfo(**{**fx.RUN.__dict__, "inputs": (InputFile("claims", "=cmd.csv", 1, "e" * 64),)})
    path = write_xlsx(f, fx.summary(f), run, tmp_path / "findings.xlsx")
    xlsx_has_no_formula(path)
    sheets = pl.read_excel(path, sheet_id=0, infer_schema_length=0)
    assert list(sheets) == ["summary", "documentation", "plan_of_care", "units"]
    units = sheets["units"]
    assert units["message"].to_list() == ["'" + t for t in FORMULAS]
    assert units["evidence"].to_list() == ["'" + t for t in FORMULAS]
    doc = sheets["documentation"].row(0, named=True)
    assert (doc["claim_id"], doc["patient_id"], doc["provider_npi"]) == ("'=C9", "'-P9", "'@P")
    summary_cells = pl.read_excel(path, sheet_name="summary", has_header=False)
    assert "'=cmd.csv" in summary_cells.to_series(0).to_list()

    csv = pl.read_csv(write_csv(f, tmp_path / "findings.csv"), infer_schema=False)
    assert csv["message"].head(len(FORMULAS)).to_list() == ["'" + t for t in FORMULAS]
    assert csv.filter(pl.col("rule_id") == "DOC-NO-NOTE")["claim_id"].item() == "'=C9"


def test_xlsx_sheet_per_family_holds_every_finding(tmp_path: Path) -> None:
    out = run_audit(SAMPLE / "claims.csv", SAMPLE / "notes.csv", SAMPLE / "plans.csv", tmp_path)
    assert out.findings_xlsx == tmp_path / "findings.xlsx"
    sheets = pl.read_excel(out.findings_xlsx, sheet_id=0)
    families = sorted({r["family"] for r in out.summary["by_rule"].values()})
    assert list(sheets) == ["summary", *families]
    total = 0
    for family in families:
        sheet = sheets[family]
        assert sheet.columns == list(FINDINGS_SCHEMA)
        rules = {r for r, v in out.summary["by_rule"].items() if v["family"] == family}
        assert set(sheet["rule_id"]) <= rules
        total += sheet.height
    assert total == out.summary["findings"]
    parquet = pl.read_parquet(out.findings_parquet)
    units = sheets["units"].sort("finding_id")
    expected = parquet.filter(pl.col("rule_id").str.starts_with("UNITS")).sort("finding_id")
    assert units["amount_at_risk"].to_list() == expected["amount_at_risk"].to_list()
    assert units["service_date"].cast(pl.Date).to_list() == expected["service_date"].to_list()
    xlsx_has_no_formula(out.findings_xlsx)


# Text the streamed rows must carry unchanged: XML specials, Excel's own _xHHHH_ escape written
# literally, control characters (CR is one: an XML parser would turn it into LF), non-ASCII.
ODD_TEXT = ["a & b <c> \"d\" 'e'", "_x0041_ stays", "tab\there\nline", "bell\x07 cr\r esc\x1b",
            "ünïcödé — 東京", "x" * 40_000, ""]  # fmt: skip


def test_streamed_rows_read_back_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workbook, "CHUNK_ROWS", 3)  # several chunks per sheet
    monkeypatch.setattr(workbook, "XLSX_MAX_ROWS", 5)  # and a family continued on a 2nd sheet
    rows = [
        fx.finding("UNITS-8MIN", "error", f"C{i:02}", 1, fx.P1, 1 + i % 28, 1234567.89 * i,
                   message=text, evidence=text, units=(i, i, None if i % 2 else i))
        for i, text in enumerate(ODD_TEXT * 2)
    ]  # fmt: skip
    f = pl.DataFrame(rows, schema=FINDINGS_SCHEMA)
    path = write_xlsx(f, fx.summary(f), fx.RUN, tmp_path / "findings.xlsx")
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                ET.fromstring(z.read(name))  # well-formed XML, every part
        units = z.read("xl/worksheets/sheet4.xml").decode()  # after summary and two empty families
    assert '<dimension ref="A1:O6"/>' in units and '<autoFilter ref="A1:O6"/>' in units
    sheets = pl.read_excel(path, sheet_id=0, infer_schema_length=0)
    assert list(sheets)[3:] == ["units", "units (2)", "units (3)"]
    back = pl.concat([sheets["units"], sheets["units (2)"], sheets["units (3)"]])
    for column in ("message", "evidence"):
        expected = [t[: sheet_xml.XLSX_MAX_CHARS] or None for t in f[column]]
        assert back[column].to_list() == expected
    assert back["excess_units"].to_list() == [None if i % 2 else str(i) for i in range(14)]
    typed = pl.read_excel(path, sheet_name="units")
    assert typed["amount_at_risk"].to_list() == f["amount_at_risk"].head(5).to_list()
    assert typed["service_date"].cast(pl.Date).to_list() == f["service_date"].head(5).to_list()
    assert typed["line_number"].to_list() == [1] * 5


def test_empty_findings_give_header_only_sheets(tmp_path: Path) -> None:
    f = pl.DataFrame(schema=FINDINGS_SCHEMA)
    path = write_xlsx(f, fx.summary(fx.findings_frame()), fx.RUN, tmp_path / "findings.xlsx")
    sheets = pl.read_excel(path, sheet_id=0)
    assert all(sheets[n].columns == list(FINDINGS_SCHEMA) for n in list(sheets)[1:])
    assert all(sheets[n].height == 0 for n in list(sheets)[1:])


def test_sheet_names_are_valid_and_unique() -> None:
    names = sheet_names(["units", "a/b:c*d?", "x" * 40, "x" * 40 + "y", "summary"])
    assert all(len(n) <= 31 and not re.search(r"[\[\]:*?/\\]", n) for n in names.values())
    assert len({n.lower() for n in names.values()} | {"summary"}) == 6


# ------------------------------------------------------------------------------- --redact
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
