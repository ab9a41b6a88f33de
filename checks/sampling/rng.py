"""RAT-STATS single-stage random numbers: a Wichmann-Hill generator seeded by emulating Visual
Basic 6's Randomize/Rnd, drawn without replacement (OIG RAT-STATS 2010 User Guide, "Single Stage
Random Numbers"; Companion Manual p. 1-2)."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

# Visual Basic's Rnd state after Rnd(-1) and one Rnd(): where RAT-STATS's Randomize starts from.
VB_START_STATE = 3758214
_VB_MULTIPLIER = 1140671485
_VB_INCREMENT = 12820163
_VB_MODULUS = 1 << 24
WH_MODULI = (30269, 30307, 30323)
GENERATOR = "Wichmann-Hill (AS 183) seeded through Visual Basic 6 Randomize/Rnd, as RAT-STATS"


class SamplingError(ValueError):
    """Input a sampling computation cannot use (sizes, seeds, worksheet values)."""


@dataclass(frozen=True)
class RandomNumbers:
    """One RAT-STATS draw: the sample (ascending and in selection order) and the spares."""

    seed: float
    low: int
    high: int
    selection_order: tuple[int, ...]
    spares: tuple[int, ...]
    wichmann_hill_seeds: tuple[int, int, int]

    @property
    def sample(self) -> tuple[int, ...]:
        return tuple(sorted(self.selection_order))

    @property
    def total(self) -> int:
        """The sum of every number drawn (sample and spares), RAT-STATS's check figure."""
        return sum(self.selection_order) + sum(self.spares)


def _vb_step(state: int) -> int:
    return (state * _VB_MULTIPLIER + _VB_INCREMENT) % _VB_MODULUS


def _vb_randomize(seed: float, state: int) -> int:
    """VB6 Randomize(seed): the two 16-bit halves of the double's high word, XORed, shifted in."""
    high = int(struct.unpack("<Q", struct.pack("<d", float(seed)))[0]) >> 32
    mixed = ((high >> 16) ^ high) & 0xFFFF
    return (mixed << 8) | (state & 0xFF)


def wichmann_hill_seeds(seed: float) -> tuple[int, int, int]:
    """The three Wichmann-Hill seeds RAT-STATS derives from a user seed."""
    if not math.isfinite(seed):
        raise SamplingError("the seed must be a finite number")
    state = _vb_randomize(seed, VB_START_STATE)
    seeds: list[int] = []
    for modulus in WH_MODULI:
        while True:
            state = _vb_step(state)
            value = modulus * state / _VB_MODULUS + 1
            if value < modulus:
                break
        seeds.append(math.floor(value))
    return seeds[0], seeds[1], seeds[2]


def random_numbers(
    seed: float, frame_size: int, count: int, spares: int = 0, low: int = 1
) -> RandomNumbers:
    """`count` sample numbers and `spares` spares from low..low+frame_size-1, without replacement.

    Each draw is u = frac(A/30269 + B/30307 + C/30323), r = floor(u * range) + low; a number
    already drawn is rejected and drawn again.
    """
    if frame_size < 1:
        raise SamplingError("the frame size must be at least 1")
    if count < 1:
        raise SamplingError("the sample size must be at least 1")
    if spares < 0:
        raise SamplingError("the number of spares cannot be negative")
    if count + spares > frame_size:
        raise SamplingError(
            f"sample ({count}) plus spares ({spares}) exceed the frame size ({frame_size})"
        )
    first = wichmann_hill_seeds(seed)
    a, b, c = first
    wanted = count + spares
    seen: set[int] = set()
    order: list[int] = []
    while len(order) < wanted:
        a = 171 * (a % 177) - 2 * (a // 177)
        if a <= 0:
            a += 30269
        b = 172 * (b % 176) - 35 * (b // 176)
        if b <= 0:
            b += 30307
        c = 170 * (c % 178) - 63 * (c // 178)
        if c <= 0:
            c += 30323
        u = math.modf(a / 30269.0 + b / 30307.0 + c / 30323.0)[0]
        number = math.floor(u * frame_size) + low
        if number not in seen:
            seen.add(number)
            order.append(number)
    return RandomNumbers(
        seed=float(seed),
        low=low,
        high=low + frame_size - 1,
        selection_order=tuple(order[:count]),
        spares=tuple(order[count:]),
        wichmann_hill_seeds=first,
    )
