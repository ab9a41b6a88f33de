"""Writing CSV files that people will open in a spreadsheet.

Every CSV this tool writes (quarantine now, findings later) is opened by a compliance officer in
Excel or LibreOffice, and its cells carry text from the billing system. A cell beginning with
`=`, `+`, `-`, `@`, tab or carriage return would be executed as a formula (CSV injection,
OWASP), so such text is prefixed with a single quote. Parquet outputs keep values unchanged.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

# OWASP "CSV Injection": the characters a spreadsheet treats as the start of a formula.
FORMULA_START = r"^[=+\-@\t\r]"


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """Prefix `'` to every text cell that a spreadsheet would run as a formula."""
    text_columns = [name for name, dtype in df.schema.items() if dtype == pl.String]
    return df.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in text_columns
    )


def write_csv(df: pl.DataFrame, path: Path) -> Path:
    """Write `df` as UTF-8 CSV with formulas neutralised; header only when `df` is empty."""
    neutralise_formulas(df).write_csv(path)
    return path
