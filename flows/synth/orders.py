"""The CY 2025 initial-certification path on synthetic plans: a signed order plus the plan sent
to the ordering practitioner within 30 days of the first treatment (CY 2025 PFS final rule,
89 Fed. Reg. 97710, 97912-97918; Pub. 100-02 ch. 15 §220.1.3).

A share of Medicare patients' clean plans are certified this way (no signature, an order dated
up to 14 days before cert_start, the plan sent 0-30 days after the first treatment); a few other
clean plans are signed and carry an order and a sent date too. The `sent_late` injection is an
unsigned plan with an order whose plan was sent 31-45 days after the first treatment.
"""

from __future__ import annotations

import numpy as np
import polars as pl

# share of Medicare patients' clean plans certified by the order path, and of other clean plans
# (any payer) that are signed and also carry an order and a sent date
ORDER_PATH, ORDER_AND_SIGNED = 0.3, 0.1


def order_path(rng: np.random.Generator, p: pl.DataFrame) -> pl.DataFrame:
    """`p` (plans with poc, payer_type, cert_start, first_tx, late_delay) plus `path` ("order",
    "order_and_signed" or null), order_signed_date and sent_date. The caller leaves plans of
    the "order" path and `sent_late` injections unsigned."""
    n = p.height
    draw = pl.lit(pl.Series(rng.random(n)))
    p = p.with_columns(
        order_back=pl.lit(pl.Series(rng.integers(0, 15, n))),
        sent_delay=pl.lit(pl.Series(rng.integers(0, 31, n))),
        path=pl.when(pl.col("poc").is_not_null())
        .then(None)
        .when((pl.col("payer_type") == "medicare") & (draw < ORDER_PATH))
        .then(pl.lit("order"))
        .when(draw < ORDER_PATH + ORDER_AND_SIGNED)
        .then(pl.lit("order_and_signed")),
    )
    on_file = pl.col("path").is_not_null() | (pl.col("poc") == "sent_late")
    return p.with_columns(
        order_signed_date=pl.when(on_file).then(
            pl.col("cert_start") - pl.duration(days=pl.col("order_back"))
        ),
        sent_date=pl.when(pl.col("poc") == "sent_late")
        .then(pl.col("first_tx") + pl.duration(days=pl.col("late_delay")))
        .when(on_file)
        .then(pl.col("first_tx") + pl.duration(days=pl.col("sent_delay"))),
    )
