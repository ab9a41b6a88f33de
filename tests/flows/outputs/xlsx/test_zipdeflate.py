"""The parallel deflate of findings.xlsx's sheets (flows/outputs/xlsx/zipdeflate.py): one
valid deflate stream in a zip entry that zipfile and a raw inflate both read back exactly."""

from __future__ import annotations

import os
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from flows.outputs.xlsx import zipdeflate
from flows.outputs.xlsx.zipdeflate import write_deflated

TEXT = b"<row><c t='inlineStr'><is><t>a &amp; b</t></is></c></row>\n"


def package(path: Path, entries: dict[str, Iterable[bytes]], *, threads: int = 2) -> None:
    """A zip with a small ordinary entry before and after the parallel-deflated ones."""
    with (
        open(path, "w+b") as fh,
        zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
    ):
        zf.writestr("first.xml", b"<a/>")
        for name, chunks in entries.items():
            info = zipfile.ZipInfo(name, (2026, 1, 31, 0, 0, 0))
            write_deflated(zf, fh, info, chunks, threads=threads)
        zf.writestr("last.xml", b"<b/>")


def local_header(path: Path, info: zipfile.ZipInfo) -> tuple[int, int, int]:
    """(method, CRC-32, uncompressed size) as the entry's local header gives them."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        head = zipdeflate.LOCAL_HEADER.unpack(fh.read(zipdeflate.LOCAL_HEADER.size))
        fh.seek(head[-2], os.SEEK_CUR)
        _, _, size, _ = struct.unpack("<HHQQ", fh.read(20))
    return head[4], head[7], size


@pytest.mark.parametrize(
    ("chunks", "block"),
    [
        ([TEXT], 1 << 20),  # one chunk, one block
        ([TEXT * 5_000, b"", TEXT * 3, os.urandom(70_000)], 4_096),  # many blocks, odd sizes
        ([], 4_096),  # nothing at all: still a valid, empty stream
        ([b"x"] * 50, 1),  # one-byte blocks
    ],
)
def test_round_trip_equals_the_serial_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes], block: int
) -> None:
    monkeypatch.setattr(zipdeflate, "BLOCK_BYTES", block)
    path = tmp_path / "p.zip"
    package(path, {"xl/worksheets/sheet2.xml": chunks, "xl/worksheets/sheet3.xml": chunks[::-1]})
    data = b"".join(chunks)
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every entry's CRC-32 checks out
        assert zf.namelist() == [
            "first.xml",
            "xl/worksheets/sheet2.xml",
            "xl/worksheets/sheet3.xml",
            "last.xml",
        ]
        assert zf.read("xl/worksheets/sheet2.xml") == data
        assert zf.read("xl/worksheets/sheet3.xml") == b"".join(chunks[::-1])
        assert zf.read("first.xml") == b"<a/>" and zf.read("last.xml") == b"<b/>"
        info = zf.getinfo("xl/worksheets/sheet2.xml")
        assert info.compress_type == zipfile.ZIP_DEFLATED
        assert (info.CRC, info.file_size, info.date_time) == (
            zlib.crc32(data),
            len(data),
            (2026, 1, 31, 0, 0, 0),
        )
        assert local_header(path, info) == (zipfile.ZIP_DEFLATED, zlib.crc32(data), len(data))
        with open(path, "rb") as fh:
            fh.seek(info.header_offset + zipdeflate.LOCAL_HEADER.size + len(info.filename) + 20)
            packed = fh.read(info.compress_size)
    # the blocks make one deflate stream, closed by its final block
    inflate = zlib.decompressobj(-15)
    assert inflate.decompress(packed) == data and inflate.eof and not inflate.unused_data


def test_one_thread_gives_the_same_entry(tmp_path: Path) -> None:
    chunks = [TEXT * 2_000, TEXT * 7]
    package(tmp_path / "one.zip", {"s.xml": chunks}, threads=1)
    package(tmp_path / "two.zip", {"s.xml": chunks}, threads=2)
    with zipfile.ZipFile(tmp_path / "one.zip") as a, zipfile.ZipFile(tmp_path / "two.zip") as b:
        assert a.read("s.xml") == b.read("s.xml") == b"".join(chunks)


def test_a_failing_chunk_source_raises(tmp_path: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield TEXT
        raise ValueError("no more rows")

    with pytest.raises(ValueError, match="no more rows"):
        package(tmp_path / "p.zip", {"s.xml": chunks()})
