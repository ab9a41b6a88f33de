"""The rows of a findings sheet as SpreadsheetML, built by polars expressions a chunk at a time
(flows/outputs/xlsx/workbook.py streams them into findings.xlsx).

Text cells are inline strings; XML specials, control characters and Excel's own `_xHHHH_` escapes
are encoded the way xlsxwriter encodes them. Rows and cells carry no `r` reference (optional in
SpreadsheetML: a reader counts rows and columns), except a cell that follows a left-out null cell,
and `xml:space="preserve"` is written only on text with whitespace at either end: building and
deflating the sheet XML is nearly all of the workbook's time, so every byte left out counts.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import polars as pl

# Excel keeps at most this many characters in a cell.
XLSX_MAX_CHARS = 32_767
# 1899-12-30 is Excel's day 0 (its 1900 leap-year bug included); polars counts from 1970-01-01.
EXCEL_EPOCH_OFFSET = 25_569
# Characters XML 1.0 does not allow, and CR (a parser turns it into LF): Excel stores them as
# _xHHHH_, as xlsxwriter does.
XML_INVALID = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))] + [
    "\ufffe",
    "\uffff",
]
INVALID_CLASS = "[" + re.escape("".join(XML_INVALID)) + "]"
# Whatever makes a text value more than a copy: an invalid character, an XML special, a literal
# `_xHHHH_`, whitespace at either end. One scan of a chunk's column for all of them costs what a
# scan for the control characters alone does, and almost every column of a
# real run has none, so its cells are the value between two literals.
NEEDS_CARE = INVALID_CLASS[:-1] + "&<>]|_x[0-9A-Fa-f]{4}_|^\\s|\\s$"
EDGE_SPACE = r"^\s|\s$"


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def xml_text(expr: pl.Expr, *, has_invalid: bool) -> pl.Expr:
    """Cell text as SpreadsheetML character data. Order matters: a literal `_xHHHH_` in the
    data is protected (`_x005F_` is the escaped underscore) before control characters are
    turned into such escapes."""
    out = expr.str.slice(0, XLSX_MAX_CHARS).str.replace_all(r"_(x[0-9A-Fa-f]{4}_)", "_x005F_$1")
    if has_invalid:
        for ch in XML_INVALID:
            out = out.str.replace_all(ch, f"_x{ord(ch):04X}_", literal=True)
    return (
        out.str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )


def _is_text(dtype: pl.DataType) -> bool:
    return not (dtype == pl.Date or dtype.is_numeric())


def _careful(part: pl.DataFrame, names: list[str]) -> dict[str, bool]:
    """The text columns of `part` that need more than a copy -> whether they hold characters
    XML does not allow."""
    if not names:
        return {}
    probe = part.select(
        (
            pl.col(n).cast(pl.String).str.contains(NEEDS_CARE).any()
            | (pl.col(n).cast(pl.String).str.len_bytes().max() > XLSX_MAX_CHARS)
        ).alias(n)
        for n in names
    ).row(0, named=True)
    careful = [n for n in names if probe[n]]
    if not careful:
        return {}
    invalid = part.select(
        pl.col(n).cast(pl.String).str.contains(INVALID_CLASS).any() for n in careful
    )
    return invalid.row(0, named=True)


def _values(part: pl.DataFrame, careful: Mapping[str, bool]) -> pl.DataFrame:
    """Each column's cell value as XML character data (null: the cell is left out), and for a
    careful text column a `<name>\0p` column saying which values have whitespace at an end
    (checked after escaping and cutting to XLSX_MAX_CHARS, which can leave a space last)."""
    exprs: list[pl.Expr] = []
    for name, dtype in part.schema.items():
        if dtype == pl.Date:
            value = pl.col(name).cast(pl.Int32) + EXCEL_EPOCH_OFFSET
        elif dtype.is_numeric():
            value = pl.col(name)
            if dtype.is_float():
                value = pl.when(value.is_finite()).then(value)
        elif name in careful:
            value = xml_text(pl.col(name).cast(pl.String), has_invalid=careful[name])
            exprs.append(value.str.contains(EDGE_SPACE).alias(f"{name}\0p"))
        else:
            value = pl.col(name)
        exprs.append(value.cast(pl.String).alias(name))
    return part.select(exprs)


def chunk_xml(part: pl.DataFrame, first_row: int, styles: Mapping[str, int]) -> bytes:
    """`<row>` elements for `part`'s rows as sheet rows `first_row`.., one element per line.

    Each row's opening tag, cells and closing tag are columns written by polars' CSV writer
    with a newline as the separator and no quoting: whitespace between elements means nothing
    in SpreadsheetML, and the writer is four times faster than joining the cells into one
    string per row. A null cell is an empty line."""
    schema = part.schema
    careful = _careful(part, [n for n, t in schema.items() if _is_text(t)])
    values = _values(part, careful)
    after_gap = [False, *(values[n].null_count() > 0 for n in part.columns[:-1])]
    if any(after_gap):
        values = values.with_row_index("\0row", offset=first_row)
    cells: list[pl.Expr] = []
    for i, (name, dtype) in enumerate(schema.items()):
        start: pl.Expr = pl.lit("<c")
        if after_gap[i]:  # the previous cell is left out on some rows: say where this one is
            ref = pl.format(f'<c r="{column_letter(i)}{{}}"', pl.col("\0row"))
            start = pl.when(pl.col(part.columns[i - 1]).is_null()).then(ref).otherwise(start)
        if _is_text(dtype):
            space: pl.Expr = pl.lit(">")
            if f"{name}\0p" in values.columns:
                space = (
                    pl.when(pl.col(f"{name}\0p"))
                    .then(pl.lit(' xml:space="preserve">'))
                    .otherwise(space)
                )
            parts = [
                start,
                pl.lit(' t="inlineStr"><is><t'),
                space,
                pl.col(name),
                pl.lit("</t></is></c>"),
            ]
        else:
            style = styles["date"] if dtype == pl.Date else None
            style = styles["money"] if name == "amount_at_risk" else style
            attrs = ">" if style is None else f' s="{style}">'
            parts = [start, pl.lit(attrs + "<v>"), pl.col(name), pl.lit("</v></c>")]
        cells.append(pl.concat_str(parts).alias(f"\0c{i}"))
    rows = values.select(pl.lit("<row>").alias("\0open"), *cells, pl.lit("</row>").alias("\0close"))
    buffer = io.BytesIO()
    rows.write_csv(buffer, include_header=False, separator="\n", quote_style="never", null_value="")
    return buffer.getvalue()
