"""A small X12 segment reader: bytes in, the interchange's segments out, with their positions.

Delimiters come from the ISA segment, which is fixed-width (ASC X12.5 interchange control
structure): the element separator is the character right after "ISA", the component separator
is ISA16 and the segment terminator the character after it; ISA11 is the repetition separator
from version 00501 on (in 00401 it is the standards identifier "U"). Line breaks between
segments (CR/LF written by many billing systems) are dropped. A UTF-8 byte-order mark and UTF-16
files are accepted. Several interchanges, functional groups and transaction sets per file are
read in order.

Interchange-level problems (no ISA, a short ISA, an IEA missing or without control number) raise
InputError with one line that names the file and the segment position, never a value.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from schemas.errors import InputError

# The ISA segment is 106 characters with its terminator (ASC X12.5; 837P guide appendix C).
ISA_LENGTH = 106
# enough of a file to find its ISA however its lines are wrapped (or UTF-16 encoded)
HEAD_BYTES = 2048
# Every suffix an X12 file may carry; which reader applies is decided by content (starts_x12).
X12_SUFFIXES = (".837", ".835", ".x12", ".edi", ".txt", ".dat")


@dataclass(frozen=True)
class Delimiters:
    element: str
    component: str
    segment: str
    repetition: str | None


@dataclass(slots=True)
class Segment:
    """`position`: 1-based segment number in the file (all interchanges counted together);
    `elements[0]` is the segment id (also `id`). Slots, not frozen: hundreds of thousands are
    made per file, and a frozen dataclass is several times slower to build."""

    position: int
    elements: list[str]
    id: str

    def get(self, index: int) -> str:
        """Element `index` (1-based, as the implementation guides number them), '' if absent."""
        return self.elements[index] if index < len(self.elements) else ""


def decode(data: bytes) -> str:
    """The file's text: UTF-16 (by its byte-order mark), UTF-8 with or without BOM, else
    Latin-1 (X12's basic and extended character sets are ASCII; a stray byte must not stop a
    read of names it only appears in)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
    elif len(data) > 1 and data[1] == 0 and data[0] != 0:
        return data.decode("utf-16-le", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def starts_x12(path: Path) -> bool:
    """True when the file begins with "ISA" after an optional BOM and whitespace."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    return decode_head(head).replace("\r", "").replace("\n", "").lstrip().startswith("ISA")


def decode_head(head: bytes) -> str:
    # A cut in the middle of a multi-byte character must not hide the start of the file.
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return head[: len(head) // 2 * 2].decode("utf-16", errors="ignore")
    return decode(head[:-4] if len(head) > 8 else head)


def delimiters(text: str, label: str) -> Delimiters:
    """The delimiters of the interchange whose ISA starts `text` (the ISA itself may be wrapped
    across lines by a system writing fixed-length lines)."""
    flat = text[:HEAD_BYTES].replace("\r", "").replace("\n", "")
    if not flat.startswith("ISA") or len(flat) < 4:
        raise InputError(f"{label} is not an X12 interchange: it does not start with ISA")
    element = flat[3]
    for candidate in (text[:ISA_LENGTH], flat):
        fields = candidate[:ISA_LENGTH].split(element)
        # ISA16 is a printable character; a line break there is a wrapped ISA, not a delimiter
        ends = fields[-1]
        if len(candidate) >= ISA_LENGTH and len(fields) == 17 and len(ends) == 2:
            if ends[0] in "\r\n":
                continue
            # a line-break terminator only when the next segment (GS) follows it: else the line
            # was wrapped right after ISA16
            if ends[1] in "\r\n" and not text[ISA_LENGTH : ISA_LENGTH + 4].lstrip(
                "\r\n"
            ).startswith("GS"):
                continue
            version = fields[12]
            repetition = fields[11] if version >= "00501" else None
            return Delimiters(element, fields[16][0], fields[16][1], repetition)
    raise InputError(f"{label}: the ISA segment is not 16 fixed-width elements")


def segments(data: bytes, label: str) -> Iterator[Segment]:
    """Every segment of every interchange in `data`, envelopes included, in file order."""
    text = decode(data).lstrip("\ufeff \t\r\n")
    first = delimiters(text, label)
    if first.segment not in "\r\n":
        # line breaks only wrap segments here; with a CR or LF terminator they are the segments
        text = text.replace("\r", "").replace("\n", "")
    position = 0
    start = 0
    while start < len(text):
        delims = first if start == 0 else delimiters(text[start:], label)
        end = _interchange_end(text, start, delims)
        isa_seen = False
        closed = False
        for raw in text[start:end].split(delims.segment):
            raw = raw.strip(" \t\r\n")
            if not raw:
                continue
            position += 1
            elements = raw.split(delims.element)
            if elements[0] == "ISA":
                if isa_seen:
                    raise InputError(
                        f"{label}: the ISA segment at position {position} opens an interchange "
                        "before the previous one is closed by an IEA"
                    )
                isa_seen = True
            elif elements[0] == "IEA":
                # IEA02 is not compared with ISA13: masked and mock files often change one of
                # the two, and nothing read here depends on the control number
                if len(elements) < 3 or not elements[2].strip():
                    raise InputError(
                        f"{label}: the IEA segment at position {position} has no control number"
                    )
                closed = True
            yield Segment(position, elements, elements[0])
        if not closed:
            raise InputError(
                f"{label}: an interchange has no IEA segment (the file may be cut short)"
            )
        start = end
        while start < len(text) and text[start] in " \t\r\n":
            start += 1


def _interchange_end(text: str, start: int, delims: Delimiters) -> int:
    """The index just past the terminator of the IEA that closes the interchange at `start`
    (the end of `text` when there is none)."""
    marker = f"{delims.segment}IEA{delims.element}"
    iea = text.find(marker, start)
    if iea < 0:
        return len(text)
    close = text.find(delims.segment, iea + len(marker))
    return len(text) if close < 0 else close + 1
