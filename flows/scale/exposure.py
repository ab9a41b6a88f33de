"""The exposure of a partitioned run (checks/sampling/exposure.py), a claim shard at a time.

The exposure takes each paid claim's difference: its at-risk amount, never more than it was
paid. Over the whole store at once that groups every claim (55 million for 100 million lines).
Here each patient partition writes what its audited lines were paid, per (provider, claim), by
shard of the claim id (the scorecard's pairs, flows/scale/store_rules.py), and every partition,
patient or provider, writes its findings' amounts at risk by the same shards; each shard then
gives its claims' differences, summed exactly (ClaimTotals), and the sums add up. A claim's
lines and findings from any partition meet in one shard.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

import polars as pl

from checks.sampling.exposure import ClaimTotals, claim_totals, differences_by_claim
from flows.scale.buckets import by_bucket, write_by_key

RISK = "risk"  # in the provider cut's folder: the findings' amounts at risk by claim shard
RISK_COLUMNS = {
    "claim_id": pl.String(),
    "line_number": pl.Int64(),
    "rule_id": pl.String(),
    "amount_at_risk": pl.Float64(),
}


def write_risk(found: pl.DataFrame, shards: int, folder: Path, k: int) -> list[Path]:
    """Partition K's findings' amounts at risk (with their rule, so that a rule that failed in
    another partition can be left out, as the findings leave it), by shard of the claim id."""
    return write_by_key(found.select(list(RISK_COLUMNS)), "claim_id", shards, folder, k)


def claims_in(paid: Iterable[Path]) -> int | None:
    """The distinct claims in the `paid` files (None: no files), a shard at a time: a claim
    id is in one shard, so the shards' counts add up."""
    shards = by_bucket(paid).values()
    if not shards:
        return None
    count = pl.col("claim_id").n_unique()
    return sum(int(pl.scan_parquet(files).select(count).collect().item()) for files in shards)


def exposure_totals(
    paid: Iterable[Path], risk: Iterable[Path], failed: Collection[str]
) -> ClaimTotals:
    """ClaimTotals of the claims in the `paid` files (rendering_npi, claim_id, paid in cents)
    given the findings' amounts in the `risk` files (write_risk), without those of the rules
    `failed` in any partition."""
    at_risk = by_bucket(risk)
    totals = ClaimTotals()
    for shard, files in sorted(by_bucket(paid).items()):
        claims = pl.scan_parquet(files).select("claim_id", "paid")
        found = at_risk.get(shard)
        flagged = (
            pl.scan_parquet(found).filter(~pl.col("rule_id").is_in(list(failed)))
            if found
            else pl.LazyFrame(schema=RISK_COLUMNS)
        )
        totals += claim_totals(differences_by_claim(claims, flagged))
    return totals
