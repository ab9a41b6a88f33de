"""The versioned reference tables the rules read besides the MUE (data/reference/, year and
source on every row), as one frozen bundle, and the year lookup they share.

Pure: flows/run/config.py reads the files (schemas below) and flows/run/context.py loads them
once per run. A table left out (None) makes the rules that need it "not applicable" (their
`needs` name it as "reference.<table>"), never a silent pass.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import polars as pl

# add-on code -> a primary code it is billed with (CPT "+" codes; CMS NCCI add-on code edits)
ADDON_SCHEMA = pl.Schema(
    {"addon": pl.String(), "primary": pl.String(), "year": pl.Int32(), "source": pl.String()}
)
# Medicare "always therapy" codes: GP, GO or GN on every line (CMS annual therapy code list)
THERAPY_CODES_SCHEMA = pl.Schema({"code": pl.String(), "year": pl.Int32(), "source": pl.String()})
# the KX threshold and the targeted medical-review threshold per calendar year
THRESHOLDS_SCHEMA = pl.Schema(
    {
        "year": pl.Int32(),
        "kx_threshold": pl.Float64(),
        "review_threshold": pl.Float64(),
        "source": pl.String(),
    }
)
FEE_SCHEDULE_SCHEMA = pl.Schema(
    {"code": pl.String(), "year": pl.Int32(), "rate": pl.Float64(), "source": pl.String()}
)


@dataclass(frozen=True)
class Reference:
    """Reference tables by name; None: not given (the rules needing it are not applicable)."""

    # eager (small, and a run context holding them pickles and hashes like the MUE table)
    addon_codes: pl.DataFrame | None = None
    therapy_codes: pl.DataFrame | None = None
    thresholds: pl.DataFrame | None = None
    fee_schedule: pl.DataFrame | None = None

    def given(self) -> frozenset[str]:
        """The names of the tables present, as `needs` tokens ("reference.addon_codes")."""
        return frozenset(
            f"reference.{f.name}" for f in fields(self) if getattr(self, f.name) is not None
        )


def latest_rows(table: pl.LazyFrame, years: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """For each `year` of `years` (one column "year") and each group `by` of `table`, the row
    of the latest table year not after it, else the earliest table year: a versioned table
    answers for every service year. Columns: year (the service year), table_year, the rest."""
    candidates = years.unique().join(table.rename({"year": "table_year"}), how="cross")
    usable = pl.col("table_year") <= pl.col("year")
    return (
        candidates.with_columns(_usable=usable)
        .with_columns(
            _pick=pl.when(pl.col("_usable").any().over("year", *by))
            .then(pl.col("table_year").filter(pl.col("_usable")).max().over("year", *by))
            .otherwise(pl.col("table_year").min().over("year", *by))
        )
        .filter(pl.col("table_year") == pl.col("_pick"))
        .drop("_usable", "_pick")
    )
