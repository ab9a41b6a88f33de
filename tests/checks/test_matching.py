"""Claim lines matched to notes on a packed key (checks/matching.py) give exactly what
the join on (patient_id, service_date, procedure_code) gave: same rows, same order, same note
summary, nulls never matching."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checks import matching
from checks.base import MATCH_KEY, SERVICE_ID, note_summary
from checks.matching import match_ids, matched_lines
from tests.support.rulekit import CLAIM_SCHEMA, NOTE_SCHEMA, claim, note

DAY = dt.date(2026, 3, 2)


def assert_service_ids(lines: pl.DataFrame) -> None:
    """SERVICE_ID is null exactly when a key part is, and two lines share one exactly when
    their keys are equal."""
    key_null = lines.select(pl.any_horizontal(pl.col(MATCH_KEY).is_null())).to_series()
    assert lines[SERVICE_ID].is_null().equals(key_null, check_names=False)
    full = lines.filter(~key_null)
    assert full.select(*MATCH_KEY, SERVICE_ID).n_unique() == full.select(MATCH_KEY).n_unique()
    assert full.select(SERVICE_ID).n_unique() == full.select(MATCH_KEY).n_unique()


def by_columns(claims: pl.DataFrame, notes: pl.DataFrame) -> pl.DataFrame:
    """The match as the engine made it before the packed key."""
    return (
        claims.lazy()
        .join(
            note_summary(notes.lazy()),
            on=list(MATCH_KEY),
            how="left",
            nulls_equal=False,
            maintain_order="left",
        )
        .collect()
    )


def frames(claims: list[dict], notes: list[dict]) -> tuple[pl.DataFrame, pl.DataFrame]:
    return pl.DataFrame(claims, schema=CLAIM_SCHEMA), pl.DataFrame(notes, schema=NOTE_SCHEMA)


# (claim overrides, note rows (id, overrides), what the line gets)
CASES = [
    ("no note", {}, [], {"note_rows": None, "note_ids": None}),
    ("one note", {}, [("N1", {})], {"note_rows": 1, "note_ids": "N1", "note_minutes": 15}),
    (
        "two notes, two providers",
        {},
        [("N2", {"npi": "1234567893", "minutes": None}), ("N1", {})],
        {"note_rows": 2, "note_ids": "N1;N2", "note_minutes": 15, "rows_minutes_missing": 1},
    ),
    ("other patient", {}, [("N1", {"patient": "P2"})], {"note_rows": None}),
    ("other day", {}, [("N1", {"date": DAY + dt.timedelta(days=1)})], {"note_rows": None}),
    ("other code", {}, [("N1", {"code": "97530"})], {"note_rows": None}),
    ("null patient on both sides", {"patient": None}, [("N1", {"patient": None})],
     {"note_rows": None}),
    ("null code on both sides", {"code": None}, [("N1", {"code": None})], {"note_rows": None}),
    ("null date on both sides", {"date": None}, [("N1", {"date": None})], {"note_rows": None}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "line", "rows", "expected"), CASES, ids=[c[0] for c in CASES])
def test_truth_table(case: str, line: dict, rows: list, expected: dict) -> None:
    claims, notes = frames(
        [claim(**{"date": DAY, **line})],
        [note(note_id, **{"date": DAY, **over}) for note_id, over in rows],
    )
    out = matched_lines(claims, notes)
    assert out.drop(SERVICE_ID).columns == by_columns(claims, notes).columns
    got = out.row(0, named=True)
    assert {k: got[k] for k in expected} == expected


def test_fallback_when_the_key_is_too_wide(monkeypatch: pytest.MonkeyPatch) -> None:
    claims, notes = frames(
        [claim("C1", patient="P1", date=DAY), claim("C2", patient="P2", date=DAY)],
        [note("N1", patient="P2", date=DAY)],
    )
    assert match_ids(claims, notes) is not None
    monkeypatch.setattr(matching, "KEY_BITS", 0)  # two patients need a bit
    assert match_ids(claims, notes) is None
    out = matched_lines(claims, notes)
    assert out["note_ids"].to_list() == [None, "N1"]
    assert out.drop(SERVICE_ID).equals(by_columns(claims, notes))
    assert_service_ids(out)


def test_packed_ids_are_equal_exactly_when_the_keys_are() -> None:
    claims, notes = frames(
        [claim(f"C{i}", patient=p, date=d, code=c) for i, (p, d, c) in enumerate(
            [("P1", DAY, "97110"), ("P2", DAY, "97110"), ("P1", dt.date(1990, 1, 1), "97530")])],
        [note("N1", patient="P1", date=dt.date(1990, 1, 1), code="97530"),
         note("N2", patient="P3", date=dt.date(2099, 12, 31), code="G0283")],
    )  # fmt: skip
    keyed = match_ids(claims, notes)
    assert keyed is not None
    ids = pl.concat([keyed[0].select(SERVICE_ID), keyed[1].select(SERVICE_ID)])[
        SERVICE_ID
    ].to_list()
    assert len(set(ids)) == 4 and ids[2] == ids[3]


PATIENTS = st.sampled_from(["P1", "P2", "P3", "P10", None])
DAYS = st.sampled_from([DAY, DAY + dt.timedelta(days=1), dt.date(2019, 12, 31), None])
CODES = st.sampled_from(["97110", "97530", "90837", None])


@st.composite
def audit_frames(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    claims = [
        claim(f"C{i}", 1, patient=draw(PATIENTS), date=draw(DAYS), code=draw(CODES))
        for i in range(draw(st.integers(0, 12)))
    ]
    notes = [
        note(
            f"N{draw(st.integers(0, 9))}",
            patient=draw(PATIENTS),
            npi=draw(st.sampled_from(["1234567893", "1245319599"])),
            date=draw(DAYS),
            code=draw(CODES),
            start=draw(st.sampled_from(["09:00", "10:30", None])),
            end=draw(st.sampled_from(["09:45", None])),
            minutes=draw(st.sampled_from([8, 15, 30, None])),
        )
        for _ in range(draw(st.integers(0, 15)))
    ]
    return frames(claims, notes)


@settings(max_examples=150, deadline=None)
@given(audit_frames(), st.booleans(), st.booleans())
def test_same_as_matching_on_the_three_columns(
    data: tuple[pl.DataFrame, pl.DataFrame], categorical: bool, narrow: bool
) -> None:
    claims, notes = data
    if categorical:  # as the engine passes them
        as_key = {"patient_id": pl.Categorical()}
        claims, notes = claims.cast(as_key), notes.cast(as_key)
    with pytest.MonkeyPatch.context() as mp:
        if narrow:  # the fallback for keys wider than KEY_BITS
            mp.setattr(matching, "KEY_BITS", -1)
        out = matched_lines(claims, notes)
    assert out.drop(SERVICE_ID).equals(by_columns(claims, notes))
    assert_service_ids(out)
