"""What a run records about itself: the program version and the SHA-256 of each input file.

One place for both, because the report (scope section) and the run history each describe the
inputs: a file is read and hashed once per run, not once per stage (at 10 million lines the
exports are a few hundred MB).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def program_version() -> str:
    try:
        return version("therapy-audit")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    # size and mtime are part of the key so a file changed between runs is hashed again
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, computed once per file version in this process."""
    stat = path.stat()
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
