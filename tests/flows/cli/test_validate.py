"""`therapy-audit validate`: summary output, exit codes, one-line errors, no PHI on the console."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flows.cli.main import build_parser, main
from tests.support.rows import CLINICSOFT, EXAMPLE_MAPPING, valid_row, write_csv_text

PATIENT = "PATIENT-SECRET-77"
NOTE = "Confidential narrative"


def _inputs(folder: Path, **overrides: list[dict[str, str | None]]) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    rows = {
        "claims": [valid_row("claims", patient_id=PATIENT)],
        "notes": [valid_row("notes", patient_id=PATIENT, note_text=NOTE)],
        "plans": [valid_row("plans", patient_id=PATIENT)],
    } | overrides
    args = []
    for export, export_rows in rows.items():
        args += [f"--{export}", str(write_csv_text(folder / f"{export}.csv", export_rows))]
    return args


def test_validate_prints_summary_and_exits_0(tmp_path: Path, capsys) -> None:
    bad_notes = [
        valid_row("notes", patient_id=PATIENT, note_text=NOTE),
        valid_row("notes", note_id="N2", patient_id=PATIENT, note_text=NOTE, minutes="ten"),
    ]
    out = tmp_path / "out"
    code = main(["validate", *_inputs(tmp_path / "in", notes=bad_notes), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "claims: 1 read = 1 accepted + 0 quarantined (1 file)" in captured.out
    assert "notes:  2 read = 1 accepted + 1 quarantined (1 file)" in captured.out
    assert str(out / "quarantine.csv") in captured.out
    for name in ("quarantine.csv", "quarantine.parquet", "validation.json"):
        assert (out / name).is_file()
    for secret in (PATIENT, NOTE, "ten"):
        assert secret not in captured.out + captured.err


def test_validate_with_mapping(tmp_path: Path, capsys) -> None:
    args = []
    for export, row in CLINICSOFT.items():
        args += [f"--{export}", str(write_csv_text(tmp_path / f"{export}.csv", [row]))]
    code = main(
        ["validate", *args, "--out", str(tmp_path / "o"), "--mapping", str(EXAMPLE_MAPPING)]
    )
    assert code == 0
    assert "plans:  1 read = 1 accepted + 0 quarantined" in capsys.readouterr().out


def _assert_one_line_error(code: int, err: str, fragment: str) -> None:
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("therapy-audit: error: ")
    assert fragment in err
    assert "Traceback" not in err


def test_missing_column_is_exit_2_one_line(tmp_path: Path, capsys) -> None:
    claims = [{k: v for k, v in valid_row("claims").items() if k != "units"}]
    out = tmp_path / "out"
    code = main(["validate", *_inputs(tmp_path / "in", claims=claims), "--out", str(out)])
    captured = capsys.readouterr()
    _assert_one_line_error(code, captured.err, "is missing the required column 'units'")
    assert captured.out == ""
    assert not out.exists()  # nothing is written when an input cannot be used


def _with(args: list[str], flag: str, value: str) -> list[str]:
    if flag in args:
        args = list(args)
        args[args.index(flag) + 1] = value
        return args
    return [*args, flag, value]


@pytest.mark.parametrize(
    ("flag", "value", "fragment"),
    [
        ("--claims", "nope.csv", "does not exist"),
        ("--mapping", "nope.toml", "mapping file"),
        (
            "--notes",
            ".",
            "has no .csv, .parquet, .xlsx, .837, .835, .x12, .edi, .txt or .dat files",
        ),
        ("--plans", "plans.json", "does not exist"),
    ],
)
def test_bad_paths_are_exit_2(tmp_path: Path, capsys, flag: str, value: str, fragment: str) -> None:
    args = _with(_inputs(tmp_path / "in"), flag, str(tmp_path / value))
    code = main(["validate", *args, "--out", str(tmp_path / "out")])
    _assert_one_line_error(code, capsys.readouterr().err, fragment)


def test_unknown_mapping_key_is_exit_2(tmp_path: Path, capsys) -> None:
    mapping = tmp_path / "m.toml"
    mapping.write_text('[notes.columns]\nnote_txt = "Narrative"\n')
    args = [*_inputs(tmp_path / "in"), "--out", str(tmp_path / "out"), "--mapping", str(mapping)]
    code = main(["validate", *args])
    _assert_one_line_error(code, capsys.readouterr().err, "unknown key 'notes.columns.note_txt'")


def test_usage_errors_return_2(capsys) -> None:
    assert main(["validate", "--claims", "x"]) == 2
    assert "required" in capsys.readouterr().err
    assert main([]) == 2


def test_parser_has_validate_subcommand() -> None:
    args = build_parser().parse_args(
        ["validate", "--claims", "c", "--notes", "n", "--plans", "p", "--out", "o"]
    )
    assert (args.command, args.mapping, args.handler.__name__) == (
        "validate",
        None,
        "_cmd_validate",
    )


def test_console_script_error_has_no_traceback(tmp_path: Path) -> None:
    corrupt = tmp_path / "claims.parquet"
    corrupt.write_bytes(b"PAR1 not really")
    args = _with(_inputs(tmp_path / "in"), "--claims", str(corrupt))
    exe = Path(sys.executable).with_name("therapy-audit")
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "flows.cli.main"]
    done = subprocess.run(
        [*command, "validate", *args, "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_one_line_error(done.returncode, done.stderr, "is not a readable Parquet file")
    assert done.stdout == ""
