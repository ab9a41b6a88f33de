"""RAT-STATS single-stage random numbers against the Companion Manual's worked example, and the
draw's properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks.sampling.rng import SamplingError, random_numbers, wichmann_hill_seeds

SOURCE = "OIG RAT-STATS 2010 Companion Manual p. 1-2 (seed 12345, frame 1-1000, 10 + 4 spares)"


def test_companion_manual_example_seeds() -> None:
    assert wichmann_hill_seeds(12345) == (11394, 24689, 22120), SOURCE


def test_companion_manual_example_sample_and_spares() -> None:
    drawn = random_numbers(12345, 1000, 10, spares=4)
    assert drawn.sample == (9, 236, 337, 340, 346, 497, 556, 641, 658, 884), SOURCE
    assert drawn.spares == (404, 624, 927, 947), SOURCE
    assert sorted(drawn.selection_order) == list(drawn.sample)
    assert drawn.total == sum(drawn.sample) + sum(drawn.spares)


def test_spares_do_not_change_the_sample() -> None:
    # spares continue the same stream: asking for more never changes the sample itself
    assert random_numbers(12345, 1000, 10).sample == random_numbers(12345, 1000, 10, 4).sample


def test_fractional_seed_differs_from_its_integer_part() -> None:
    assert random_numbers(48863.78, 5000, 20).sample != random_numbers(48863, 5000, 20).sample


@pytest.mark.parametrize(
    ("frame", "count", "spares"), [(0, 1, 0), (10, 0, 0), (10, 5, -1), (10, 8, 3)]
)
def test_impossible_requests_are_errors(frame: int, count: int, spares: int) -> None:
    with pytest.raises(SamplingError):
        random_numbers(1, frame, count, spares)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    frame=st.integers(min_value=1, max_value=5000),
    data=st.data(),
)
def test_same_seed_same_sample_distinct_and_in_frame(
    seed: float, frame: int, data: st.DataObject
) -> None:
    count = data.draw(st.integers(min_value=1, max_value=min(frame, 60)))
    spares = data.draw(st.integers(min_value=0, max_value=min(frame - count, 10)))
    first = random_numbers(seed, frame, count, spares)
    assert first == random_numbers(seed, frame, count, spares)
    drawn = first.selection_order + first.spares
    assert len(set(drawn)) == count + spares
    assert all(1 <= r <= frame for r in drawn)


def test_census_draws_every_unit() -> None:
    assert random_numbers(7, 50, 50).sample == tuple(range(1, 51))


def test_a_million_unit_frame_draws_quickly() -> None:
    drawn = random_numbers(20240101, 1_000_000, 5_000, 100)
    assert len(set(drawn.sample)) == 5_000
