"""Hostile workbooks: limits checked before the XLSX reader allocates (a 1.5 KB file once made
it abort the process), and which sheet is read (a hidden first sheet was read instead of the
visible one, and the rows of other sheets were lost without a word)."""

from __future__ import annotations

import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from flows.inputs.formats import workbook, xlsx
from flows.inputs.mapping import ExportMapping
from flows.inputs.read import read_export
from schemas.errors import InputError
from tests.support.rows import VALID, valid_row, write_csv_text
from tests.support.workbooks import sheet_xml, write_workbook

LABEL = "claims file 'x.xlsx'"
HEADER = list(VALID["claims"])
ROW = list(VALID["claims"].values())


def _limited() -> None:
    # the unguarded reader tries to allocate hundreds of GB: keep a regression from swapping
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))


def _validate(tmp_path: Path, claims: Path) -> subprocess.CompletedProcess[str]:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    args = [f"--claims={claims}"]
    for export in ("notes", "plans"):
        args.append(f"--{export}={write_csv_text(folder / f'{export}.csv', [valid_row(export)])}")
    return subprocess.run(
        [sys.executable, "-m", "flows.cli.main", "validate", *args, "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=120, preexec_fn=_limited,
    )  # fmt: skip


@pytest.mark.parametrize(
    "xml",
    [
        # the adversarial file: a declared dimension of every cell Excel allows
        sheet_xml([HEADER, ROW], dimension="A1:XFD1048576"),
        # no dimension, but two cells at opposite corners
        sheet_xml([HEADER, ROW]).replace(
            "</sheetData>", '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
        ),
    ],
    ids=["declared-dimension", "far-cell"],
)
def test_a_workbook_naming_a_huge_sheet_is_one_line_exit_2(tmp_path: Path, xml: str) -> None:
    path = write_workbook(tmp_path / "claims.xlsx", [("Claims", "visible", xml)])
    assert path.stat().st_size < 3000
    done = _validate(tmp_path, path)
    assert done.returncode == 2, done.stderr[-500:]
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "rows x 16,384 columns, beyond the limits" in done.stderr


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    padding = "<!--" + " " * (40 << 20) + "-->"
    xml = sheet_xml([HEADER, ROW]).replace("<sheetData>", padding + "<sheetData>")
    path = write_workbook(tmp_path / "claims.xlsx", [("Claims", "visible", xml)])
    assert path.stat().st_size < 200_000
    with pytest.raises(InputError, match=r"unpacks \d+-fold \(more than 200-fold\)"):
        xlsx.read(LABEL, path, ExportMapping())


def test_a_workbook_unpacking_beyond_the_byte_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = 30_000
    xml = sheet_xml([HEADER, *[ROW] * 30])
    path = write_workbook(tmp_path / "claims.xlsx", [("A", "visible", xml), ("B", "hidden", xml)])
    monkeypatch.setattr(workbook, "MAX_BYTES", limit)
    with pytest.raises(InputError, match=f"unpacks to more than {limit:,} bytes: not read"):
        workbook.inspect_workbook(LABEL, path)


def test_a_workbook_within_the_limits_is_read(tmp_path: Path) -> None:
    xml = sheet_xml([HEADER, ROW], dimension=f"A1:{chr(64 + len(HEADER))}2")
    path = write_workbook(tmp_path / "claims.xlsx", [("Claims", "visible", xml)],
                          compression=zipfile.ZIP_STORED)  # fmt: skip
    assert read_export("claims", path).frame["claim_id"].to_list() == ["C1"]


# ------------------------------------------------------------------------------------ sheets
def _sheets(tmp_path: Path, *sheets: tuple[str, str, str]) -> Path:
    """(name, state, claim_id): one claims row per sheet."""
    rows = {name: [cid if c == "claim_id" else v for c, v in zip(HEADER, ROW, strict=True)]
            for name, _, cid in sheets}  # fmt: skip
    xml = [(name, state, sheet_xml([HEADER, rows[name]])) for name, state, _ in sheets]
    return write_workbook(tmp_path / "claims.xlsx", xml)


def test_a_hidden_first_sheet_is_not_read_in_place_of_the_visible_one(tmp_path: Path) -> None:
    path = _sheets(tmp_path, ("Old", "hidden", "HIDDEN"), ("Claims", "visible", "SHOWN"))
    assert read_export("claims", path).frame["claim_id"].to_list() == ["SHOWN"]


def test_several_visible_sheets_with_data_are_one_line_naming_them(tmp_path: Path) -> None:
    path = _sheets(tmp_path, ("Jan", "visible", "A"), ("Feb", "visible", "B"),
                   ("Old", "veryHidden", "C"))  # fmt: skip
    with pytest.raises(InputError) as caught:
        read_export("claims", path)
    message = str(caught.value)
    assert "has 2 visible sheets with data ('Jan', 'Feb'): name the one" in message
    assert "\n" not in message and "Old" not in message


def test_data_only_on_a_hidden_sheet_is_not_read_silently(tmp_path: Path) -> None:
    empty = ("Cover", "visible", sheet_xml([]))
    path = write_workbook(tmp_path / "claims.xlsx",
                          [empty, ("Data", "hidden", sheet_xml([HEADER, ROW]))])  # fmt: skip
    with pytest.raises(InputError, match=r"data only on hidden sheets \('Data'\)"):
        read_export("claims", path)
    assert xlsx.read(LABEL, path, ExportMapping(sheet="Data")).frame.height == 1


def test_an_empty_visible_sheet_beside_the_data_does_not_count(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "claims.xlsx", [("Notes", "visible", sheet_xml([])),
                          ("Claims", "visible", sheet_xml([HEADER, ROW]))])  # fmt: skip
    assert read_export("claims", path).frame.height == 1
