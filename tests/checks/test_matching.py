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
from checks.base import MATCH_KEY, NOTE_BILLED, SERVICE_ID, note_summary
from checks.matching import match, match_ids
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
    out = match(claims, notes).lines
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
    out = match(claims, notes).lines
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
        out = match(claims, notes).lines
    assert out.drop(SERVICE_ID).equals(by_columns(claims, notes))
    assert_service_ids(out)


# --- disciplines: a line matches the notes of its discipline or of none ------------------------
NPI_PT, NPI_OT, NPI_X = "1234567893", "1245319599", "1111111112"
GX = {"GP": "PT", "GO": "OT"}


def _disciplines(claims: pl.DataFrame) -> pl.Series:
    return claims.get_column("modifiers").replace_strict(GX, default=None, return_dtype=pl.String)


def _match(claims: list[dict], notes: list[dict]) -> matching.MatchedFrames:
    c, n = frames(claims, notes)
    return matching.match(c, n, _disciplines(c))


def test_pt_and_ot_lines_of_one_code_get_their_own_notes() -> None:
    out = _match(
        [claim("C1", mods="GP", npi=NPI_PT), claim("C2", mods="GO", npi=NPI_OT)],
        [note("N1", npi=NPI_PT, minutes=30), note("N2", npi=NPI_OT, minutes=10)],
    )
    assert out.lines["note_ids"].to_list() == ["N1", "N2"]
    assert out.lines["note_minutes"].to_list() == [30, 10]
    assert out.notes["discipline"].to_list() == ["PT", "OT"]


# (case, note overrides, the note's discipline): the line is a PT line by NPI_PT for 97110,
# and NPI_PT also bills 97530 under GP that day
RESOLVE = [
    ("explicit column", {"discipline": "OT"}, "OT"),
    ("the clinician's line of the same service", {}, "PT"),
    ("the one discipline billed for the code", {"npi": NPI_X}, "PT"),
    ("the clinician's discipline that day, code not billed", {"code": "97140"}, "PT"),
    ("nothing to go by", {"code": "97140", "npi": NPI_X}, None),
]


@pytest.mark.parametrize(("case", "over", "expected"), RESOLVE, ids=[c[0] for c in RESOLVE])
def test_note_discipline(case: str, over: dict, expected: str | None) -> None:
    out = _match(
        [claim("C1", mods="GP", npi=NPI_PT), claim("C2", code="97530", mods="GP", npi=NPI_PT)],
        [note("N1", **over)],
    )
    assert out.notes["discipline"].to_list() == [expected]


def test_unbilled_notes_are_marked() -> None:
    out = _match(
        [claim("C1", mods="GP", npi=NPI_PT), claim("C2", code="97530", units=0, npi=NPI_PT)],
        [note("N1", npi=NPI_PT), note("N2", code="97140"), note("N3", code="97530"),
         note("N4", discipline="OT")],
    )  # fmt: skip
    assert out.notes[NOTE_BILLED].to_list() == [True, False, False, False]


def _reference(claims: list[dict], notes: list[dict]) -> tuple[list[tuple], list[tuple]]:
    """The match, row by row: what each line's summary and each note's discipline must be (a
    note with a null key part, which the contract never lets through, keeps its own)."""

    def key(row: dict) -> tuple | None:
        parts = (row["patient_id"], row["service_date"], row["procedure_code"])
        return None if None in parts else parts

    ld = [GX.get(c["modifiers"] or "") for c in claims]
    resolved = []
    for n in notes:
        k = key(n)
        same = [i for i, c in enumerate(claims) if k is not None and key(c) == k]
        known = {ld[i] for i in same if ld[i]}
        mine = {ld[i] for i in same if ld[i] and claims[i]["rendering_npi"] == n["provider_npi"]}
        day = {
            ld[i] for i, c in enumerate(claims)
            if ld[i] and k is not None and key(c) is not None
            and (c["patient_id"], c["service_date"], c["rendering_npi"])
            == (n["patient_id"], n["service_date"], n["provider_npi"])
        }  # fmt: skip
        choices = [{n["discipline"]} - {None}, known, mine, day]
        resolved.append(next((c.pop() for c in choices if len(c) == 1), None))
    lines = []
    for i, c in enumerate(claims):
        rows = [
            j for j, n in enumerate(notes)
            if key(c) is not None and key(n) == key(c)
            and (ld[i] is None or resolved[j] is None or ld[i] == resolved[j])
        ]  # fmt: skip
        minutes = [notes[j]["minutes"] for j in rows if notes[j]["minutes"] is not None]
        lines.append(
            (len(rows) or None, sum(minutes) if minutes else None,
             ";".join(sorted({notes[j]["note_id"] for j in rows})) or None,
             sum(resolved[j] is None for j in rows) if rows else None)
        )  # fmt: skip
    billed = [
        any(
            c["units"] > 0 and key(c) is not None and key(c) == key(n)
            and (ld[i] is None or resolved[j] is None or ld[i] == resolved[j])
            for i, c in enumerate(claims)
        )
        for j, n in enumerate(notes)
    ]  # fmt: skip
    return lines, list(zip(resolved, billed, strict=True))


@st.composite
def with_disciplines(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    npis = st.sampled_from([NPI_PT, NPI_OT, NPI_X])
    codes = st.sampled_from(["97110", "97530", None])
    claims = [
        claim(f"C{i}", 1, patient=draw(st.sampled_from(["P1", "P2"])), code=draw(codes),
              mods=draw(st.sampled_from(["GP", "GO", "GP:59", None])), npi=draw(npis),
              units=draw(st.integers(0, 2)))
        for i in range(draw(st.integers(0, 8)))
    ]  # fmt: skip
    notes = [
        note(f"N{i}", patient=draw(st.sampled_from(["P1", "P2"])), code=draw(codes),
             npi=draw(npis), minutes=draw(st.sampled_from([8, 15, None])),
             discipline=draw(st.sampled_from([None, None, "PT", "OT"])))
        for i in range(draw(st.integers(0, 8)))
    ]  # fmt: skip
    return claims, notes


@settings(max_examples=200, deadline=None)
@given(with_disciplines(), st.booleans())
def test_discipline_match_as_the_reference(data: tuple[list, list], narrow: bool) -> None:
    claims, notes = data
    for c in claims:  # the reference reads GP/GO from the first modifier
        c["modifiers"] = (c["modifiers"] or "").split(":")[0] or None
    with pytest.MonkeyPatch.context() as mp:
        if narrow:
            mp.setattr(matching, "KEY_BITS", -1)
        out = _match(claims, notes)
    lines, resolved = _reference(claims, notes)
    got = out.lines.select("note_rows", "note_minutes", "note_ids", "rows_discipline_unknown")
    assert got.rows() == lines
    assert out.notes.select("discipline", NOTE_BILLED).rows() == resolved
