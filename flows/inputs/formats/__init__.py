"""Which files are inputs, and the one reader of each file type.

`READERS` maps a file suffix to its reader; it is the only list of input file types: folder
listing, the drop folder, the run record's input hashes and the error messages all follow it.
Adding a format is one reader module (see `base.Reader`) and one entry here.

Ignored everywhere a folder is listed: hidden files (`.name`) and Office lock files (`~$name`,
written beside an open workbook), whatever their suffix, and `.txt`/`.dat` files that are not
X12 (given by name, such a file is refused with one line instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from flows.inputs.formats import csv, parquet, x12, xlsx
from flows.inputs.formats.base import Reader
from schemas.errors import InputError

READERS: dict[str, Reader] = {
    ".csv": csv.read,
    ".parquet": parquet.read,
    ".xlsx": xlsx.read,
    # X12 837P/835: the content decides (a file must start with ISA); formats/x12.py
    **{suffix: x12.read for suffix in x12.X12_SUFFIXES},
}
IGNORED_PREFIXES = (".", "~$")


def listed(suffixes: Sequence[str] | None = None) -> str:
    """The suffixes (default: every input type) as messages name them: '.csv, .parquet or .xlsx'."""
    names = list(READERS if suffixes is None else suffixes)
    return " or ".join(filter(None, (", ".join(names[:-1]), names[-1])))


def is_ignored(path: Path) -> bool:
    return path.name.startswith(IGNORED_PREFIXES)


def is_input_type(path: Path) -> bool:
    return path.suffix.lower() in READERS


def is_input(path: Path) -> bool:
    """A file of a type in READERS that is neither hidden nor a lock file; a `.txt` or `.dat`
    file only when it is X12 (starts with ISA): a folder's notes and read-me files are not
    inputs."""
    if is_ignored(path) or not is_input_type(path) or not path.is_file():
        return False
    return path.suffix.lower() not in x12.BY_CONTENT or x12.starts_x12(path)


def input_files(folder: Path) -> list[Path]:
    """The input files directly in `folder` (not recursive), sorted by name."""
    return sorted((p for p in folder.iterdir() if is_input(p)), key=lambda p: p.name)


def reader_for(path: Path) -> Reader:
    return READERS[path.suffix.lower()]


def is_x12(path: Path) -> bool:
    """True when `path` is read by the X12 reader (flows/inputs/formats/x12.py)."""
    return reader_for(path) is x12.read


def one_format(export: str, folder: Path, files: list[Path]) -> list[Path]:
    """`files` when they are all X12 or all tables (CSV, Parquet, XLSX): an export is one
    kind of file, so a folder mixing them is refused with one line."""
    kinds = {is_x12(p) for p in files}
    if len(kinds) > 1:
        raise InputError(
            f"{export} folder '{folder}' mixes X12 files with CSV, Parquet or XLSX files; "
            "an export is one format: put them in separate folders"
        )
    return files
