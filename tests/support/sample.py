"""Variants of the demo sample that several test folders build the same way."""

from __future__ import annotations

import numpy as np
import polars as pl


def cross_provider(notes: pl.DataFrame, seed: int = 0, share: float = 0.05) -> pl.DataFrame:
    """Some notes of the first two providers written by the other one of the pair (and the
    same for the next two), so a provider partition has to keep providers who meet on a match
    key together, while the last providers stay groups of one."""
    npis = sorted(notes["provider_npi"].unique())
    pairs = {npis[0]: npis[1], npis[1]: npis[0], npis[2]: npis[3], npis[3]: npis[2]}
    picked = pl.Series(np.random.default_rng(seed).random(notes.height) < share)
    other = pl.col("provider_npi").replace_strict(pairs, default=pl.col("provider_npi"))
    return notes.with_columns(provider_npi=pl.when(picked).then(other).otherwise("provider_npi"))
