"""A zip entry deflated on several threads, pigz-style.

findings.xlsx's sheets of a large audit are hundreds of megabytes of XML, seconds of zlib on one
core. Python's zipfile deflates an entry on the thread that writes it, so here each block is
deflated on its own compressor in a thread pool (zlib releases the GIL), ended with a sync flush so
that the pieces, concatenated and closed by one final empty block, are a single valid deflate stream
(as pigz does).

zipfile cannot take data that is already compressed, so the blocks go in as a stored entry and
the entry is then relabelled deflated: its CRC-32 and size become those of the uncompressed
data, in the ZipInfo (which the central directory is written from on close) and in the local
header, patched in place at the ZipInfo's header_offset.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO

# Blocks this size keep both cores busy to the end of a sheet; each block starts without the
# previous one's 32 KB of history, which costs a fraction of a percent in size.
BLOCK_BYTES = 4 << 20
THREADS = 2
# Blocks compressed ahead of the writer: bounds memory whatever the size of the entry.
AHEAD = 2 * THREADS
LOCAL_SIGNATURE = b"PK\x03\x04"
LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
ZIP64_EXTRA = struct.Struct("<HHQQ")
ZIP64_EXTRA_ID = 0x0001


def _deflate(block: memoryview, level: int) -> bytes:
    packer = zlib.compressobj(level, zlib.DEFLATED, -15)
    return packer.compress(block) + packer.flush(zlib.Z_SYNC_FLUSH)


def _blocks(chunks: Iterable[bytes]) -> Iterable[memoryview]:
    for chunk in chunks:
        view = memoryview(chunk)
        for start in range(0, len(view), BLOCK_BYTES):
            yield view[start : start + BLOCK_BYTES]


def write_deflated(
    zf: zipfile.ZipFile,
    fh: BinaryIO,
    info: zipfile.ZipInfo,
    chunks: Iterable[bytes],
    *,
    level: int = 1,
    threads: int = THREADS,
) -> None:
    """Write the concatenation of `chunks` to `zf` as the deflated entry `info`.

    `fh` is the seekable, readable file `zf` was opened on (its local header is patched)."""
    info.compress_type = zipfile.ZIP_STORED
    crc = size = 0
    pending: deque[tuple[memoryview, Future[bytes]]] = deque()
    with (
        ThreadPoolExecutor(threads, thread_name_prefix="deflate") as pool,
        zf.open(info, "w", force_zip64=True) as out,
    ):

        def settle(keep: int) -> None:
            nonlocal crc, size
            while len(pending) > keep:
                block, packed = pending.popleft()
                out.write(packed.result())
                crc, size = zlib.crc32(block, crc), size + len(block)

        for block in _blocks(chunks):
            pending.append((block, pool.submit(_deflate, block, level)))
            settle(AHEAD)
        settle(0)
        out.write(zlib.compressobj(level, zlib.DEFLATED, -15).flush())  # the final block
    _relabel(fh, info, crc, size)


def _relabel(fh: BinaryIO, info: zipfile.ZipInfo, crc: int, size: int) -> None:
    """The stored entry `info` just written is really deflated data of `size` bytes."""
    end = fh.tell()
    fh.seek(info.header_offset)
    head = LOCAL_HEADER.unpack(fh.read(LOCAL_HEADER.size))
    name_len, extra_len = head[-2], head[-1]
    fh.seek(info.header_offset + LOCAL_HEADER.size + name_len)
    extra = fh.read(extra_len)
    tag, length, _, packed_size = ZIP64_EXTRA.unpack_from(extra)
    if head[0] != LOCAL_SIGNATURE or (tag, length) != (ZIP64_EXTRA_ID, 16):
        raise RuntimeError(f"unexpected local header for {info.filename}")
    fields = (*head[:4], zipfile.ZIP_DEFLATED, *head[5:7], crc, *head[8:])
    fh.seek(info.header_offset)
    fh.write(LOCAL_HEADER.pack(*fields))
    fh.seek(info.header_offset + LOCAL_HEADER.size + name_len)
    fh.write(ZIP64_EXTRA.pack(tag, length, size, packed_size))
    fh.seek(end)
    info.compress_type, info.CRC, info.file_size = zipfile.ZIP_DEFLATED, crc, size
