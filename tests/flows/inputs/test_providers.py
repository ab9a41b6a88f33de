"""The optional providers export and the optional note_type / allowed_amount columns: absent,
everything is as before; given, they go through the same mapping, quarantine and counts."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from flows.cli.main import main
from flows.inputs.redact import validate_redacted
from flows.inputs.validate import ValidationSummary, validate_inputs
from flows.schedule.drop import newest_exports
from flows.state.history import default_scope, describe_inputs
from tests.support.rows import NPI, make_npi, valid_row, write_csv_text

NPI_2 = make_npi("198765432")
PATIENT = "PATIENT-SECRET-77"


def _exports(folder: Path, providers: list[dict[str, str | None]] | None = None) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {
        "claims": [valid_row("claims", patient_id=PATIENT)],
        "notes": [valid_row("notes", patient_id=PATIENT)],
        "plans": [valid_row("plans", patient_id=PATIENT)],
    }
    paths = [write_csv_text(folder / f"{e}.csv", r) for e, r in rows.items()]
    if providers is not None:
        paths.append(write_csv_text(folder / "providers.csv", providers))
    return paths


def _validate(tmp_path: Path, providers: list[dict[str, str | None]] | None) -> ValidationSummary:
    claims, notes, plans, *rest = _exports(tmp_path / "in", providers)
    given = rest[0] if rest else None
    return validate_inputs(claims, notes, plans, tmp_path / "out", providers=given)


def test_without_providers_nothing_changes(tmp_path: Path) -> None:
    result = _validate(tmp_path, None)
    assert result.providers is None
    assert "providers" not in result.results
    summary = json.loads(result.summary_path.read_text())
    assert list(summary["exports"]) == ["claims", "notes", "plans"]
    # optional columns absent from the files are read as blank, never as a problem
    assert result.claims["allowed_amount"].null_count() == 1
    assert result.notes["note_type"].null_count() == 1


def test_providers_are_validated_counted_and_quarantined(tmp_path: Path) -> None:
    rows = [
        valid_row("providers", npi=NPI, role="pt"),
        valid_row("providers", npi=NPI_2, role="PTA", supervising_npi=NPI),
        valid_row("providers", npi=make_npi("111111111"), role="nurse"),
        valid_row("providers", npi=make_npi("222222222")),
        valid_row("providers", npi=make_npi("222222222"), name="the same NPI again"),
        valid_row("providers", npi="12345", role="OT"),
    ]
    result = _validate(tmp_path, rows)
    assert result.providers is not None
    assert result.providers["npi"].to_list() == [NPI, NPI_2]
    assert result.providers["role"].to_list() == ["PT", "PTA"]
    assert result.providers["supervising_npi"].to_list() == [None, NPI]
    assert list(result.providers.columns) == [
        "npi", "name", "role", "discipline", "supervising_npi"
    ]  # fmt: skip
    summary = json.loads(result.summary_path.read_text())
    info = summary["exports"]["providers"]
    assert (info["rows_read"], info["rows_accepted"], info["rows_quarantined"]) == (6, 2, 4)
    assert summary["totals"]["rows_read"] == 3 + 6
    assert info["problems_by_reason"] == {
        "duplicate (npi): every row sharing the key is set aside": 2,
        "npi is not a valid NPI (10 digits with a correct check digit)": 1,
        "role must be one of PT, PTA, OT, OTA, SLP, SLPA, LCSW, LPC, psychologist, other": 1,
    }
    quarantine = pl.read_parquet(result.quarantine_parquet)
    mine = quarantine.filter(pl.col("export") == "providers")
    assert sorted(mine["source_row"].to_list()) == [3, 4, 5, 6]
    assert mine["source_file"].unique().to_list() == ["providers.csv"]


def test_note_type_and_allowed_amount_when_given(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    claims = [
        valid_row("claims", allowed_amount="$125.00"),
        valid_row("claims", line_number="2", allowed_amount=""),
        valid_row("claims", line_number="3", allowed_amount="-1"),
    ]
    notes = [
        valid_row("notes", note_type="Progress"),
        valid_row("notes", note_id="N2", note_type=""),
        valid_row("notes", note_id="N3", note_type="weekly"),
    ]
    folder.mkdir()
    result = validate_inputs(
        write_csv_text(folder / "claims.csv", claims),
        write_csv_text(folder / "notes.csv", notes),
        write_csv_text(folder / "plans.csv", [valid_row("plans")]),
        tmp_path / "out",
    )
    assert result.claims["allowed_amount"].to_list() == [125.0, None]
    assert result.claims.schema["allowed_amount"] == pl.Float64
    assert result.notes["note_type"].to_list() == ["progress", None]
    reasons = set(pl.read_parquet(result.quarantine_parquet)["reason"])
    assert reasons == {
        "allowed_amount must be 0 or more",
        "note_type must be one of evaluation, re-evaluation, daily, progress, discharge",
    }


def test_a_mapping_renames_the_providers_columns(tmp_path: Path) -> None:
    mapping = tmp_path / "map.toml"
    mapping.write_text('[providers.columns]\nnpi = "Clinician NPI"\nrole = "Licence"\n')
    claims, notes, plans = _exports(tmp_path / "in")
    providers = write_csv_text(
        tmp_path / "in" / "staff.csv", [{"Clinician NPI": NPI, "Licence": "OTA", "Extra": "x"}]
    )
    result = validate_inputs(
        claims, notes, plans, tmp_path / "out", mapping=mapping, providers=providers
    )
    assert result.providers is not None
    assert result.providers.select("npi", "role").rows() == [(NPI, "OTA")]


def test_redaction_keeps_the_providers(tmp_path: Path) -> None:
    claims, notes, plans, providers = _exports(tmp_path / "in", [valid_row("providers")])
    result = validate_redacted(claims, notes, plans, tmp_path / "out", b"k", providers=providers)
    assert result.providers is not None and result.providers["npi"].to_list() == [NPI]
    assert PATIENT not in result.claims["patient_id"].to_list()


def test_cli_validate_and_run_take_providers(tmp_path: Path, capsys) -> None:
    claims, notes, plans, providers = _exports(tmp_path / "in", [valid_row("providers")])
    args = [f"--claims={claims}", f"--notes={notes}", f"--plans={plans}"]
    assert main(["validate", *args, f"--providers={providers}", "--out", str(tmp_path / "v")]) == 0
    out = capsys.readouterr().out
    assert "providers: 1 read = 1 accepted + 0 quarantined (1 file)" in out
    assert "claims:    1 read" in out  # aligned with the longer name

    run = [*args, f"--providers={providers}", "--no-expectations", "--no-history"]
    assert main(["run", *run, "--out", str(tmp_path / "r")]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["inputs"]["providers"] == {
        "rows_read": 1, "rows_accepted": 1, "rows_quarantined": 0
    }  # fmt: skip
    record = json.loads((tmp_path / "r" / "run.json").read_text())
    assert record["inputs"]["providers"]["rows"] == 1
    assert "providers:" in capsys.readouterr().out

    missing = tmp_path / "nope.csv"
    assert main(["run", *args, f"--providers={missing}", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "providers path" in err[0] and "Traceback" not in err[0]


def test_run_without_providers_records_no_providers(tmp_path: Path) -> None:
    claims, notes, plans = _exports(tmp_path / "in")
    args = [f"--claims={claims}", f"--notes={notes}", f"--plans={plans}"]
    run = [*args, "--no-expectations", "--no-history", "--out", str(tmp_path / "r")]
    assert main(["run", *run]) == 0
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert list(summary["inputs"]) == ["claims", "notes", "plans"]
    assert "providers" not in json.loads((tmp_path / "r" / "run.json").read_text())["inputs"]


def test_history_and_scope_count_providers_only_when_given(tmp_path: Path) -> None:
    claims, notes, plans, providers = _exports(tmp_path / "in", [valid_row("providers")])
    assert default_scope(claims, notes, plans, None) == default_scope(
        claims, notes, plans, None, providers=None
    )
    assert default_scope(claims, notes, plans, None) != default_scope(
        claims, notes, plans, None, providers=providers
    )
    assert "providers" not in describe_inputs(claims, notes, plans)
    described = describe_inputs(claims, notes, plans, rows={"providers": 1}, providers=providers)
    assert described["providers"]["name"] == "providers.csv"
    assert described["providers"]["rows"] == 1
    assert len(described["providers"]["sha256"]) == 64


@pytest.mark.parametrize("layout", ["prefixed", "subfolder", "absent"])
def test_drop_folder_picks_a_providers_export_when_there_is_one(
    tmp_path: Path, layout: str
) -> None:
    _exports(tmp_path)
    if layout == "prefixed":
        write_csv_text(tmp_path / "Providers-2026.csv", [valid_row("providers")])
    elif layout == "subfolder":
        (tmp_path / "providers").mkdir()
        write_csv_text(tmp_path / "providers" / "staff.csv", [valid_row("providers")])
    picked = newest_exports(tmp_path)
    assert list(picked)[:3] == ["claims", "notes", "plans"]
    if layout == "absent":
        assert "providers" not in picked
    else:
        assert picked["providers"].name in ("Providers-2026.csv", "staff.csv")
