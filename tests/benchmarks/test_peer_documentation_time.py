"""The DuckDB peer of the documentation and time rules flags what our rules flag and what the
sources expect, on the edge cases of a practice's billing: a note of another discipline or
date, a note written by another clinician, unsigned and late notes, impossible session times,
psychotherapy minutes at each end of the codes' ranges."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import polars as pl

from checks.engine import run_rules
from checks.profile import Profile
from checks.registry import all_rules
from flows.run.context import RunContext, load_context
from tests.benchmarks.duckdb_peer import documentation, time_rules
from tests.benchmarks.duckdb_peer.base import PeerContext, setup

D = dt.date(2026, 3, 2)
CLAIM = pl.Schema(
    {"claim_id": pl.String(), "line_number": pl.Int64(), "patient_id": pl.String(),
     "rendering_npi": pl.String(), "payer_type": pl.String(), "service_date": pl.Date(),
     "procedure_code": pl.String(), "modifiers": pl.String(), "units": pl.Int64(),
     "allowed_amount": pl.Float64(), "paid_amount": pl.Float64()}
)  # fmt: skip
NOTE = pl.Schema(
    {"note_id": pl.String(), "patient_id": pl.String(), "provider_npi": pl.String(),
     "service_date": pl.Date(), "procedure_code": pl.String(), "start_time": pl.Time(),
     "end_time": pl.Time(), "minutes": pl.Int64(), "discipline": pl.String(),
     "signed_at": pl.Datetime("us")}
)  # fmt: skip
PROVIDER = pl.Schema({"npi": pl.String(), "name": pl.String(), "role": pl.String(),
                      "discipline": pl.String(), "supervising_npi": pl.String()})  # fmt: skip
Flagged = dict[str, set[str]]


def t(hhmm: str | None) -> dt.time | None:
    return None if hhmm is None else dt.time(int(hhmm[:2]), int(hhmm[3:]))


def signed(days: int, hour: int = 18) -> dt.datetime:
    """A signature `days` after the service date D, at `hour`."""
    return dt.datetime.combine(D + dt.timedelta(days=days), dt.time(hour))


def write(
    folder: Path,
    claims: Sequence[tuple[Any, ...]],
    notes: Sequence[tuple[Any, ...]],
    providers: Sequence[tuple[Any, ...]] = (),
) -> Path:
    """Claim rows (CLAIM's columns; the amounts may be left off: no allowed, 50 paid), note rows
    (NOTE's, times as "HH:MM"), providers when given, and one plan, as Parquet exports."""
    lines = [(*r, None, 50.0) if len(r) == len(CLAIM) - 2 else r for r in claims]
    c = pl.DataFrame(lines, schema=CLAIM, orient="row").with_columns(
        payer_id=pl.lit("P"), charge_amount=pl.lit(100.0)
    )
    rows = [(*r[:5], t(r[5]), t(r[6]), *r[7:]) for r in notes]
    n = pl.DataFrame(rows, schema=NOTE, orient="row").with_columns(note_text=pl.lit(""))
    p = pl.DataFrame(
        [{"plan_id": "P1", "patient_id": "X", "discipline": "PT", "cert_start": D,
          "cert_end": D, "signed_date": D, "certifying_npi": "1"}]
    )  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    c.write_parquet(folder / "claims.parquet")
    n.write_parquet(folder / "notes.parquet")
    p.write_parquet(folder / "plans.parquet")
    if providers:
        pl.DataFrame(providers, schema=PROVIDER, orient="row").write_parquet(
            folder / "providers.parquet"
        )
    return folder


@cache
def context() -> RunContext:
    return load_context(None)


def ours(folder: Path, rule_ids: set[str], profiles: Mapping[str, Profile]) -> Flagged:
    """The lines our rules `rule_ids` flag ("claim|line" per rule id)."""
    given = folder / "providers.parquet"
    raw, _, _ = run_rules(
        pl.scan_parquet(folder / "claims.parquet"),
        pl.scan_parquet(folder / "notes.parquet"),
        pl.scan_parquet(folder / "plans.parquet"),
        profiles=dict(profiles),
        mue=context().mue.lazy(),
        rules={k: v for k, v in all_rules().items() if k in rule_ids},
        providers=pl.scan_parquet(given) if given.exists() else None,
        reference=context().reference,
    )
    found: Flagged = {rule_id: set() for rule_id in rule_ids}
    for rule_id, claim, line in raw.select("rule_id", "claim_id", "line_number").rows():
        found[rule_id].add(f"{claim}|{line}")
    return found


def peer(folder: Path, modules: Sequence[ModuleType], profiles: Mapping[str, Profile]) -> Flagged:
    """The lines the peer's `modules` flag ("claim|line" per rule id of their labels)."""
    ctx = PeerContext(folder, profiles)
    con = duckdb.connect()
    for sql in setup(ctx):
        con.execute(sql)
    for module in modules:
        if hasattr(module, "prepare"):
            module.prepare(con, ctx)
    found: Flagged = {}
    for module in modules:
        for label, sql in module.statements(ctx).items():
            for rule_id in label.split(" ", 1)[0].split("/"):
                found.setdefault(rule_id, set())
            for claim, line, rule_id in con.execute(sql).fetchall():
                found[rule_id].add(f"{claim}|{line}")
    return found


def both(
    folder: Path, modules: Sequence[ModuleType], profiles: Mapping[str, Profile] | None = None
) -> tuple[Flagged, Flagged]:
    profiles = profiles or context().profiles
    theirs = peer(folder, modules, profiles)
    return ours(folder, set(theirs), profiles), theirs


# PT and OT lines of one patient and day, documented by PT, OT or unknown-discipline notes
DOC_CLAIMS = [
    ("OK", 1, "A", "1", "medicare", D, "97110", "GP", 2),  # its note
    ("NONE", 1, "B", "1", "medicare", D, "97110", "GP", 1),  # no note at all
    ("ZERO", 1, "B", "1", "medicare", D, "97112", "GP", 0),  # no note, but no unit billed
    ("DATE", 1, "C", "1", "medicaid", D, "97110", "GP", 1),  # its note is of the day before
    ("CODE", 1, "D", "1", "medicaid", D, "97140", "GP", 1),  # only 97110 documented that day
    # PT and OT bill 97110 the same day: a PT note, and an unknown one written by the PT (its
    # provider renders the PT line, so it is PT's): the OT line is undocumented
    ("PTOT", 1, "E", "1", "commercial", D, "97110", "GP", 2),
    ("PTOT", 2, "E", "2", "commercial", D, "97110", "GO", 2),
    # another clinician's note still documents the service; payer "other" is commercial's
    ("OTHER", 1, "F", "1", "other", D, "97530", "GO", 1),
    # unsigned and late notes, each documenting one line
    ("UNS", 1, "G", "1", "medicare", D, "97110", "GP", 1),  # its only note unsigned
    ("UNS", 2, "G", "1", "medicare", D, "97112", "GP", 1),  # signed, unsigned addendum row
    ("UNS", 3, "G", "1", "medicare", D, "97140", "GP", 1),  # signed 7 days later: on time
    ("UNS", 4, "G", "1", "medicare", D, "97530", "GP", 1),  # signed 8 days later: late
    ("UNS", 5, "G", "1", "medicare", D, "97535", "GP", 1),  # day 7 at 23:00: the date counts
    # PT and OT 97116 the same day: only the OT note is unsigned
    ("UNS2", 1, "H", "1", "medicaid", D, "97116", "GP", 1),
    ("UNS2", 2, "H", "2", "medicaid", D, "97116", "GO", 1),
    ("UNS0", 1, "H", "1", "medicaid", D, "97112", "GP", 0),  # unsigned, but no unit billed
]
DOC_NOTES = [
    ("n1", "A", "1", D, "97110", "09:00", "09:30", 30, "PT", signed(0)),
    ("n2", "C", "1", D - dt.timedelta(days=1), "97110", "09:00", "09:15", 15, "PT", signed(0)),
    ("n3", "D", "1", D, "97110", "09:00", "09:15", 15, "PT", signed(0)),
    ("n4", "E", "1", D, "97110", "09:00", "09:30", 30, "PT", signed(0)),
    ("n5", "E", "1", D, "97110", "09:30", "09:45", 15, None, signed(0)),
    ("n6", "F", "9", D, "97530", "10:00", "10:15", 15, "OT", signed(0)),
    # a documented service nobody billed
    ("n7", "F", "9", D, "97140", "10:15", "10:30", 15, "OT", None),
    ("n8", "G", "1", D, "97110", "09:00", "09:15", 15, "PT", None),
    ("n9", "G", "1", D, "97112", "09:15", "09:30", 15, "PT", signed(1)),
    ("n9a", "G", "1", D, "97112", None, None, None, "PT", None),
    ("n10", "G", "1", D, "97140", "09:30", "09:45", 15, "PT", signed(7)),
    ("n11", "G", "1", D, "97530", "09:45", "10:00", 15, "PT", signed(8)),
    ("n12", "G", "1", D, "97535", "10:00", "10:15", 15, "PT", signed(7, 23)),
    ("n13", "H", "1", D, "97116", "09:00", "09:15", 15, "PT", signed(0)),
    ("n14", "H", "2", D, "97116", "10:00", "10:15", 15, "OT", None),
    ("n15", "H", "1", D, "97112", "11:00", "11:15", 15, "PT", None),
]


def test_documentation_rules(tmp_path: Path) -> None:
    folder = write(tmp_path, DOC_CLAIMS, DOC_NOTES)
    mine, theirs = both(folder, [documentation])
    expected = {
        # Pub. 100-02 ch. 15 §220.3: each billed treatment is documented
        "DOC-NO-NOTE": {"NONE|1", "DATE|1", "CODE|1", "PTOT|2"},
        # Pub. 100-08 ch. 3 §3.3.2.4; the shipped profiles' limit: 7 days
        "DOC-NOTE-UNSIGNED": {"UNS|1", "UNS|2", "UNS|4", "UNS2|2"},
    }
    assert mine == expected
    assert theirs == expected


def test_documentation_rules_follow_each_profile(tmp_path: Path) -> None:
    """A profile's own limit and switch: Medicaid's late limit cut to 7 -> 0 days, the rule
    off for commercial payers; and no signature date in the export: not applicable."""
    shipped = context().profiles

    def tuned(name: str, **params: Any) -> Profile:
        profile = shipped[name]
        settings = profile.rules["DOC-NOTE-UNSIGNED"]
        if params.pop("enabled", True) is False:
            settings = dataclasses.replace(settings, enabled=False)
        settings = dataclasses.replace(settings, params={**settings.params, **params})
        return dataclasses.replace(profile, rules={**profile.rules, "DOC-NOTE-UNSIGNED": settings})

    profiles = {
        "medicare": shipped["medicare"],
        "medicaid": tuned("medicaid", late_after_days=0),
        "commercial": tuned("commercial", enabled=False),
    }
    claims = [
        ("MCR", 1, "A", "1", "medicare", D, "97110", "GP", 1),  # signed the next day
        ("MCD", 1, "B", "1", "medicaid", D, "97110", "GP", 1),  # the next day: late for it
        ("MCD", 2, "B", "1", "medicaid", D, "97112", "GP", 1),  # the same evening: on time
        ("COM", 1, "C", "1", "commercial", D, "97110", "GP", 1),  # unsigned, rule off
    ]
    notes = [
        ("n1", "A", "1", D, "97110", "09:00", "09:15", 15, "PT", signed(1)),
        ("n2", "B", "1", D, "97110", "09:00", "09:15", 15, "PT", signed(1)),
        ("n3", "B", "1", D, "97112", "09:15", "09:30", 15, "PT", signed(0)),
        ("n4", "C", "1", D, "97110", "09:00", "09:15", 15, "PT", None),
    ]
    folder = write(tmp_path / "tuned", claims, notes)
    mine, theirs = both(folder, [documentation], profiles)
    expected: Flagged = {"DOC-NO-NOTE": set(), "DOC-NOTE-UNSIGNED": {"MCD|1"}}
    assert mine == expected
    assert theirs == expected

    blank = [(*n[:9], None) for n in notes]
    folder = write(tmp_path / "blank", claims, blank)
    mine, theirs = both(folder, [documentation], profiles)
    expected = {"DOC-NO-NOTE": set(), "DOC-NOTE-UNSIGNED": set()}
    assert mine == expected
    assert theirs == expected


# one note per line unless said; times as the note records them
TIME_CASES: list[tuple[str, str, str, str | None, str | None, int | None, int]] = [
    # claim, code, payer, start, end, minutes, units
    ("OK", "97110", "medicare", "09:00", "09:30", 30, 2),
    ("TOL2", "97110", "medicare", "09:00", "09:32", 30, 2),  # 2 minutes off: tolerated
    ("TOL3", "97110", "medicaid", "09:00", "09:33", 30, 2),  # 3 minutes off
    ("REV", "97110", "medicaid", "10:00", "09:00", 60, 4),  # ends before it starts
    ("SAME", "97110", "commercial", "10:00", "10:00", 0, 1),  # ends as it starts
    ("NIGHT", "97110", "other", "23:30", "00:15", 45, 3),  # across midnight: for review
    ("SPAN240", "97110", "medicare", "09:00", "13:00", 240, 16),  # the maximum
    ("SPAN241", "97110", "medicare", "09:00", "13:01", 241, 16),  # a minute over it
    ("NOMIN", "97110", "medicare", "09:00", "09:30", None, 2),  # times only
    ("NOTIME", "97110", "medicare", None, None, 30, 2),  # minutes only: TIME-MISSING's
    ("ZERO", "97110", "medicare", "10:00", "09:00", 60, 0),  # no unit billed
    # Psychotherapy, AMA CPT: 90832 16-37, 90834 38-52, 90837 53 or more (add-ons alike)
    ("P15", "90832", "medicaid", "09:00", "09:15", 15, 1),
    ("P16", "90832", "medicaid", "09:00", "09:16", 16, 1),
    ("P37", "90832", "commercial", "09:00", "09:37", 37, 1),
    ("P38", "90832", "commercial", "09:00", "09:38", 38, 1),  # 90834 fits: above the range
    ("Q38", "90834", "medicare", "09:00", "09:38", 38, 1),
    ("Q52", "90834", "medicare", "09:00", "09:52", 52, 1),
    ("Q53", "90834", "medicare", "09:00", "09:53", 53, 1),
    ("R52", "90837", "medicaid", "09:00", "09:52", 52, 1),
    ("R53", "90837", "medicaid", "09:00", "09:53", 53, 1),
    ("R90", "90837", "medicaid", "09:00", "10:30", 90, 1),  # no upper end
    ("S16", "90833", "medicare", "09:00", "09:16", 16, 1),
    ("SNONE", "90836", "medicare", "09:00", "09:40", None, 1),  # no minutes documented
]


def test_time_rules(tmp_path: Path) -> None:
    claims: list[tuple[Any, ...]] = []
    notes: list[tuple[Any, ...]] = []
    for i, (claim, code, payer, start, end, minutes, units) in enumerate(TIME_CASES):
        patient = f"T{i}"
        claims.append((claim, 1, patient, "1", payer, D, code, "", units))
        notes.append((f"n{i}", patient, "1", D, code, start, end, minutes, None, signed(0)))
    claims += [
        # PT and OT 97530 the same day: only the OT note's times are impossible
        ("PTOT", 1, "U", "1", "medicare", D, "97530", "GP", 1),
        ("PTOT", 2, "U", "2", "medicare", D, "97530", "GO", 1),
        # 90837 documented on two rows, 30 + 25 minutes: 55 in all
        ("SPLIT", 1, "V", "3", "medicaid", D, "90837", "", 1),
        # no note at all: DOC-NO-NOTE's, not TIME-PSYCHOTHERAPY's
        ("NONOTE", 1, "W", "3", "medicaid", D, "90834", "", 1),
    ]
    notes += [
        ("u1", "U", "1", D, "97530", "09:00", "09:15", 15, "PT", signed(0)),
        ("u2", "U", "2", D, "97530", "10:15", "10:00", 15, "OT", signed(0)),
        # an impossible note of a service nobody billed flags nothing
        ("u3", "U", "2", D, "97535", "11:15", "11:00", 15, "OT", signed(0)),
        ("v1", "V", "3", D, "90837", "09:00", "09:30", 30, "BH", signed(0)),
        ("v2", "V", "3", D, "90837", "13:00", "13:25", 25, "BH", signed(0)),
    ]
    folder = write(tmp_path, claims, notes)
    mine, theirs = both(folder, [time_rules])
    expected = {
        # Pub. 100-02 ch. 15 §220.3; the shipped profiles: 240-minute span, 2 minutes' tolerance
        "TIME-INVALID": {"TOL3|1", "REV|1", "SAME|1", "NIGHT|1", "SPAN241|1", "PTOT|2"},
        "TIME-PSYCHOTHERAPY": {"P15|1", "P38|1", "Q53|1", "R52|1", "SNONE|1"},
    }
    assert mine == expected
    assert theirs == expected
