"""CSV reader: UTF-8, UTF-8 with BOM or Windows-1252, every column read as text.

Text keeps leading zeros in ids and codes; normalize parses the contract's types later.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

import polars as pl

from flows.inputs.formats.base import FileRead
from flows.inputs.mapping import ExportMapping
from schemas.errors import InputError


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' (BOM), 'utf-8' (decodes cleanly) or 'cp1252'. Streams: files can be GBs."""
    with path.open("rb") as fh:
        if fh.read(3) == codecs.BOM_UTF8:
            return "utf-8-sig"
        fh.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := fh.read(1 << 24):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _csv_problem(err: Exception) -> str:
    # Polars messages can quote the offending field (PHI), so only known causes are named.
    text = str(err)
    if "invalid utf-8" in text:
        return "it is not valid UTF-8 (set csv.encoding in the mapping)"
    if "more fields" in text:
        return "a row has more fields than the header (check csv.delimiter and quoting)"
    return "check the delimiter, quoting and encoding"


def read(label: str, path: Path, spec: ExportMapping) -> FileRead:
    options = spec.csv
    encoding = detect_encoding(path) if options.encoding == "auto" else options.encoding
    try:
        if encoding in ("utf-8", "utf-8-sig", "utf_8"):
            source: Path | io.BytesIO = path
        else:
            source = io.BytesIO(path.read_bytes().decode(encoding).encode("utf-8"))
        df = pl.read_csv(
            source, infer_schema=False, separator=options.delimiter, raise_if_empty=True
        )
    except pl.exceptions.NoDataError:
        raise InputError(f"{label} is empty") from None
    except UnicodeDecodeError:
        raise InputError(
            f"{label} is neither UTF-8 nor {encoding} text (set csv.encoding in the mapping)"
        ) from None
    except pl.exceptions.PolarsError as err:
        raise InputError(f"{label} could not be read as CSV: {_csv_problem(err)}") from None
    if df.width and df.columns[0].startswith("\ufeff"):
        df = df.rename({df.columns[0]: df.columns[0].lstrip("\ufeff")})
    return FileRead(df, encoding.replace("_", "-"))
