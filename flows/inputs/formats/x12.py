"""X12 reader: 837P claim files (claims export) and 835 remittance files (remits export).

Any of X12_SUFFIXES; the content decides: the file must start with "ISA" (after an optional
byte-order mark and whitespace), else it is refused with one line. The rows come out under the
contract's column names (the identity mapping applies), all text, numbered by the segment
position of their SV1 (claims) or SVC (remits) segment; structural problems of single claims go
to the quarantine through FileRead.problems (flows/inputs/x12/).
"""

from __future__ import annotations

from pathlib import Path

from flows.inputs.formats.base import FileRead
from flows.inputs.mapping import ExportMapping
from flows.inputs.x12.claims837 import read_claims
from flows.inputs.x12.remits835 import read_remits
from flows.inputs.x12.segments import (
    HEAD_BYTES,
    X12_SUFFIXES,
    Segment,
    decode_head,
    delimiters,
    segments,
    starts_x12,
)
from flows.inputs.x12.table import Rows
from schemas.errors import InputError

__all__ = ["BY_CONTENT", "X12_SUFFIXES", "read", "starts_x12"]

# suffixes other files use too: in a folder, such a file is an input only when it is X12
BY_CONTENT = (".txt", ".dat")

# Transaction set (ST01) each export reads; implementation guides of other claim types
# (837I institutional 005010X223A2, 004010X096A1; 837D dental X224) are refused by GS08.
TRANSACTIONS = {"claims": "837", "remits": "835"}
NOT_PROFESSIONAL = ("X223", "X096", "X224", "X097")
NAMES = {"837": "837P claims", "835": "835 remittances"}


def _export(label: str) -> str:
    # read_export labels every file "<export> file '<path>'"
    return label.split(" ", 1)[0]


def read(label: str, path: Path, spec: ExportMapping) -> FileRead:
    if not starts_x12(path):
        raise InputError(
            f"{label} is not an X12 file: it does not start with an ISA segment "
            f"({path.suffix} files are read as X12 only)"
        )
    export = _export(label)
    wanted = TRANSACTIONS.get(export)
    if wanted is None:
        raise InputError(f"{label} is an X12 file; only the claims and remits exports read X12")
    data = path.read_bytes()
    delims = delimiters(decode_head(data[:HEAD_BYTES]).lstrip("\ufeff \t\r\n"), label)
    found = list(segments(data, label))
    _check_transactions(label, found, wanted)
    reader = read_claims if wanted == "837" else read_remits
    rows: Rows = reader(found, delims)
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8"
    return FileRead(rows.frame(), encoding, rows.row_numbers(), rows.problems())


def _check_transactions(label: str, found: list[Segment], wanted: str) -> None:
    kinds = {s.get(1) for s in found if s.id == "ST"}
    if not kinds:
        raise InputError(f"{label} holds no X12 transaction set (no ST segment)")
    if kinds != {wanted}:
        other = sorted(kinds - {wanted})[0]
        named = NAMES.get(other, f"X12 {other} transactions")
        raise InputError(
            f"{label} holds {named}; the {_export(label)} export reads {NAMES[wanted]}"
        )
    for seg in found:
        if seg.id == "GS" and any(g in seg.get(8) for g in NOT_PROFESSIONAL):
            raise InputError(
                f"{label} is not a professional claim file (GS08 names another implementation "
                "guide); only 837P (005010X222A1, 004010X098A1) is read"
            )
