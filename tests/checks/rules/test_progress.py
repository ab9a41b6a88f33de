"""Truth table of the progress-report rule (checks/rules/progress.py): PROGRESS-REPORT-LATE."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.support.rulekit import NPI_A, NPI_B, Case, check_case, claim, note, provider

FIRST = (
    "CMS Pub. 100-02 Ch. 15 §220.3 D: the first reporting period begins on the first day of the "
    "episode, whether that day's service is an evaluation, re-evaluation or treatment; later "
    "periods begin on the treatment day after the progress report"
)
D = (
    "CMS Pub. 100-02 Ch. 15 §220.3 D: a progress report at least once every 10 treatment days, "
    "by the clinician; an assistant's report does not restart the count"
)
R = "PROGRESS-REPORT-LATE"
START = dt.date(2026, 3, 2)


def visits(
    n: int,
    types: dict[int, str],
    *,
    mods: str = "GP",
    npi: dict[int, str] | None = None,
    discipline: str | None = None,
    first: int = 1,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Treatment days first..first+n-1 (claim C<day>, one 97110 line, a note of type `types`
    [day] or daily)."""
    claims, notes = [], []
    for day in range(first, first + n):
        date = START + dt.timedelta(days=day - 1)
        who = (npi or {}).get(day, NPI_A)
        claims.append(claim(f"C{day:02d}", date=date, mods=mods))
        notes.append(
            note(
                f"N{day:02d}",
                date=date,
                npi=who,
                discipline=discipline,
                note_type=types.get(day, "daily"),
            )
        )
    return claims, notes  # fmt: skip


def line(day: int) -> tuple[str, int]:
    return (f"C{day:02d}", 1)


TEN = visits(10, {1: "evaluation"})
ELEVEN = visits(11, {1: "evaluation"})
TWELVE = visits(12, {1: "evaluation"})
WITH_REPORT = visits(14, {1: "evaluation", 11: "progress"})
BY_PTA = visits(13, {1: "evaluation", 8: "progress"}, npi={8: NPI_B})
PTA = provider(NPI_B, "PTA", discipline="PT")
# evaluation day 1, progress report day 5 (days 1-5: 5 days), then days 6-15 are 10, 16 late
AFTER_REPORT = visits(16, {1: "evaluation", 5: "progress"})
REEVAL = visits(12, {1: "re-evaluation"})
DISCHARGE = visits(11, {1: "evaluation", 11: "discharge"})
NO_EVAL = visits(15, {})
UNKNOWN = visits(12, {1: "Evaluation"}, discipline=None)
DAY_11 = START + dt.timedelta(days=10)
OT_REPORT = (
    [*TWELVE[0], claim("C99", date=DAY_11, mods="GO", npi=NPI_B)],
    [*TWELVE[1], note("N99", date=DAY_11, npi=NPI_B, note_type="progress", discipline="OT")],
)

# fmt: off
CASES = [
    Case(R, "the evaluation day is day 1: days 11 and 12 are late", "flag", source=FIRST,
         claims=TWELVE[0], notes=TWELVE[1], expected={line(11): None, line(12): None}),
    Case(R, "ten treatment days, the evaluation's included", "boundary", source=FIRST,
         claims=TEN[0], notes=TEN[1]),
    Case(R, "the 11th treatment day counting the evaluation's", "boundary", source=FIRST,
         claims=ELEVEN[0], notes=ELEVEN[1], expected={line(11): None}),
    Case(R, "after a progress report the count starts the day after it", "boundary",
         source=FIRST, claims=AFTER_REPORT[0], notes=AFTER_REPORT[1],
         expected={line(16): None}),
    Case(R, "a re-evaluation first in the export: its own day is not counted", "boundary",
         source=FIRST, claims=REEVAL[0], notes=REEVAL[1], expected={line(12): None}),
    Case(R, "a progress report on day 11 starts the count anew", "clean", source=D,
         claims=WITH_REPORT[0], notes=WITH_REPORT[1]),
    Case(R, "progress report written by a PTA: its own day is clean, no new period", "flag",
         source=D + "; assistants may write elements of the report between clinician reports",
         providers=[PTA], claims=BY_PTA[0], notes=BY_PTA[1],
         expected={line(11): None, line(12): None, line(13): None}),
    Case(R, "the PTA's report without a providers export counts", "boundary", source=D,
         claims=BY_PTA[0], notes=BY_PTA[1]),
    Case(R, "a clinician's discharge note on day 11 is its period's report", "clean",
         source=D + "; the discharge note is a progress report covering the period it closes",
         claims=DISCHARGE[0], notes=DISCHARGE[1]),
    Case(R, "no report in the export: not judged", "clean", source=D,
         claims=NO_EVAL[0], notes=NO_EVAL[1]),
    Case(R, "a note of unknown discipline, type in capitals", "boundary", source=D,
         claims=UNKNOWN[0], notes=UNKNOWN[1], expected={line(11): None, line(12): None}),
    Case(R, "an OT progress report does not report on the PT plan", "flag", source=D,
         claims=OT_REPORT[0], notes=OT_REPORT[1], expected={line(11): None, line(12): None}),
    Case(R, "no note has a note_type", "blank", source=D,
         claims=TWELVE[0], notes=[{**n, "note_type": None} for n in TWELVE[1]],
         not_applicable="the notes have no note_type values"),
    Case(R, "a larger interval in the profile", "clean", source=D,
         params={"max_treatment_days": 12}, claims=TWELVE[0], notes=TWELVE[1]),
]
# fmt: on


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_case(case: Case) -> None:
    check_case(case)


def test_message_counts_the_days() -> None:
    out = check_case(CASES[0]).sort("claim_id")
    assert (
        "treatment day 11 since the last evaluation or progress report on 2026-03-02"
        in (out["message"][0])
    )


def test_a_late_assistant_report_is_named_and_does_not_restart() -> None:
    claims, notes = visits(12, {1: "evaluation", 11: "progress"}, npi={11: NPI_B})
    case = Case(R, "PTA report on the 11th day", "flag", source=D, providers=[PTA],
                claims=claims, notes=notes, expected={line(11): None, line(12): None})  # fmt: skip
    out = check_case(case).sort("claim_id")
    assert out["message"].str.contains("does not restart").to_list() == [True, False]
    assert out["evidence"].str.contains("report by assistant=true").to_list() == [True, False]
