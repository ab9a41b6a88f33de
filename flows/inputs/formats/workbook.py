"""An XLSX workbook looked at before any reader opens it: limits, and which sheets it has.

Untrusted workbooks are checked first, because the XLSX reader (calamine, in Rust) allocates one
cell for every position between the first and last cell a sheet names: a 1.5 KB file naming
`XFD1048576` made it try to allocate hundreds of GB and abort the process. So, from the zip's
own bytes (streamed, never all in memory): the declared and actual uncompressed size, the
compression ratio, and for every worksheet its declared `<dimension>` and the rows and columns
its cells name. A workbook over a limit is an InputError of one line, before anything is read.

The sheets come from `xl/workbook.xml` in workbook order with their visibility (`hidden`,
`veryHidden`) and whether their XML holds any cell. Everything is read with regular expressions
on bytes, not an XML parser: no entity expansion, no DTD, nothing fetched.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import InputError

# Excel's own sheet limits; no export of the contract comes near them.
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
# Cells between the first and the last a sheet names (what the reader allocates): 50 million
# is a 1,000,000-row export of 50 columns, about 1.6 GB in the reader.
MAX_CELLS = 50_000_000
# Uncompressed bytes of the whole workbook, and the ratio that marks a zip bomb (real workbooks
# compress 5-30 times; a ratio is only judged above RATIO_FLOOR bytes).
MAX_BYTES = 2 << 30
MAX_RATIO = 200
RATIO_FLOOR = 16 << 20
MAX_MEMBERS = 10_000

_CHUNK = 1 << 22
_OVERLAP = 64
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Za-z]{0,4})([0-9]{0,12}):?'
                        rb'([A-Za-z]{0,4})([0-9]{0,12})')  # fmt: skip
# A cell's reference in any attribute position (` r="B7"`): rows name digits only, so this finds
# cells (a row without cells allocates nothing). Four letters or twelve digits are past any
# limit already, and stop the count there.
_CELL_COLUMN = re.compile(rb' r="([A-Za-z]{1,4})[0-9]')
_CELL_ROW = re.compile(rb' r="[A-Za-z]{1,4}([0-9]{1,12})')
_SHEET = re.compile(rb"<(?:\w+:)?sheet\s[^>]*>")
_RELATION = re.compile(rb"<(?:\w+:)?Relationship\s[^>]*>")
_ATTRIBUTE = re.compile(rb'([\w:]+)="([^"]*)"')


@dataclass(frozen=True)
class Sheet:
    """One sheet of the workbook: its name, whether Excel hides it, whether it has any cell."""

    name: str
    hidden: bool
    has_cells: bool


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _attributes(tag: bytes) -> dict[str, str]:
    found = {}
    for key, value in _ATTRIBUTE.findall(tag):
        name = key.decode("ascii", "replace")
        found[name.rsplit(":", 1)[-1] if name.endswith(":id") else name] = html.unescape(
            value.decode("utf-8", "replace")
        )
    return found


class _Extent:
    """The rows and columns a worksheet names, as its cells are streamed past."""

    def __init__(self) -> None:
        self.rows = 0
        self.columns = 0
        self.cells = False

    def add(self, chunk: bytes) -> None:
        columns = set(_CELL_COLUMN.findall(chunk))
        if columns:
            self.cells = True
            self.columns = max(self.columns, *(_column_number(c) for c in columns))
            self.rows = max([self.rows, *(int(r) for r in set(_CELL_ROW.findall(chunk)))])


def _check_extent(label: str, part: str, rows: int, columns: int, what: str) -> None:
    if rows > MAX_ROWS or columns > MAX_COLUMNS or rows * columns > MAX_CELLS:
        raise InputError(
            f"{label}: a sheet ({part}) {what} {rows:,} rows x {columns:,} columns, beyond the "
            f"limits ({MAX_ROWS:,} rows, {MAX_COLUMNS:,} columns, {MAX_CELLS:,} cells): not read"
        )


def _scan_sheet(label: str, archive: zipfile.ZipFile, part: str, budget: list[int]) -> bool:
    """Stream one worksheet's XML: its declared and actual extent within the limits (budget:
    uncompressed bytes left). True when it has any cell."""
    extent = _Extent()
    tail = b""
    with archive.open(part) as stream:
        while chunk := stream.read(_CHUNK):
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise InputError(f"{label} unpacks to more than {MAX_BYTES:,} bytes: not read")
            window = tail + chunk
            for declared in _DIMENSION.finditer(window):
                end_col = declared.group(3) or declared.group(1)
                end_row = declared.group(4) or declared.group(2)
                _check_extent(label, part, int(end_row or 0), _column_number(end_col), "declares")
            extent.add(window)
            tail = chunk[-_OVERLAP:]
    _check_extent(label, part, extent.rows, extent.columns, "names cells over")
    return extent.cells


def _parts(label: str, archive: zipfile.ZipFile) -> dict[str, str]:
    """relationship id -> worksheet part (zip member name) from the workbook's relationships."""
    try:
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        raise InputError(f"{label} is not a readable XLSX workbook") from None
    parts = {}
    for tag in _RELATION.findall(rels):
        attrs = _attributes(tag)
        target = attrs.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        parts[attrs.get("Id", "")] = posixpath.normpath(path)
    return parts


def inspect_workbook(label: str, path: Path) -> list[Sheet]:
    """Check `path` against the limits (module doc) and list its sheets in workbook order.
    Raises InputError, one line naming the file and the limit, never a cell value."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InputError(f"{label} is not a readable XLSX workbook") from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_MEMBERS:
            raise InputError(f"{label} holds more than {MAX_MEMBERS:,} parts: not read")
        declared = sum(m.file_size for m in members)
        packed = max(1, sum(m.compress_size for m in members))
        if declared > MAX_BYTES:
            raise InputError(f"{label} unpacks to more than {MAX_BYTES:,} bytes: not read")
        if declared > RATIO_FLOOR and declared / packed > MAX_RATIO:
            raise InputError(
                f"{label} unpacks {declared // packed}-fold (more than {MAX_RATIO}-fold): "
                "not read (zip bomb?)"
            )
        try:
            workbook = archive.read("xl/workbook.xml")
            parts = _parts(label, archive)
            names = set(archive.namelist())
            budget = [MAX_BYTES]
            sheets = []
            for tag in _SHEET.findall(workbook):
                attrs = _attributes(tag)
                part = parts.get(attrs.get("id", ""), "")
                cells = part in names and _scan_sheet(label, archive, part, budget)
                hidden = attrs.get("state", "visible") in ("hidden", "veryHidden")
                sheets.append(Sheet(attrs.get("name", ""), hidden, cells))
        except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError):
            raise InputError(f"{label} is not a readable XLSX workbook") from None
    return sheets


def sheet_to_read(label: str, sheets: list[Sheet]) -> str:
    """The one visible sheet with cells, by name. Several: an error naming them (rows of the
    others would be lost silently); hidden sheets are never picked (the mapping can name one)."""
    visible = [s for s in sheets if not s.hidden]
    filled = [s for s in visible if s.has_cells]
    hidden = [s.name for s in sheets if s.hidden and s.has_cells]
    if len(filled) == 1:
        return filled[0].name
    if len(filled) > 1:
        listed = ", ".join(f"'{s.name}'" for s in filled)
        raise InputError(
            f"{label} has {len(filled)} visible sheets with data ({listed}): name the one to "
            'read with sheet = "..." under this export in the mapping file'
        )
    if hidden:
        listed = ", ".join(f"'{n}'" for n in hidden)
        raise InputError(
            f"{label} has data only on hidden sheets ({listed}): unhide it, or name it with "
            'sheet = "..." under this export in the mapping file'
        )
    if visible:
        return visible[0].name
    raise InputError(f"{label} has no sheet")
