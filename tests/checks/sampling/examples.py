"""The published worked examples the sampling statistics reproduce exactly."""

from __future__ import annotations

# OIG RAT-STATS 2010 Companion Manual, Example 1 (variable appraisal): N = 10,000, n = 50,
# examined / audited dollars per sampled unit, in sample order.
COMPANION_EXAMPLE_1 = (
    "300/267 900/774 300/255 200/174 900/810 700/560 1000/820 100/80 900/765 700/630 "
    "700/630 400/332 300/255 100/84 200/168 100/88 600/528 400/340 900/747 1000/800 "
    "1000/862 600/504 800/648 200/176 200/172 1000/890 900/792 600/540 500/525 200/172 "
    "200/178 500/425 200/164 500/420 500/400 400/324 200/160 600/540 500/425 300/264 "
    "900/765 100/84 100/85 900/810 300/240 500/415 500/425 300/237 500/435 100/86"
)
EXAMPLE_1_UNIVERSE = 10_000


def example_1() -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(examined, audited) of Example 1 in whole dollars."""
    pairs = [tuple(int(v) for v in p.split("/")) for p in COMPANION_EXAMPLE_1.split()]
    return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
