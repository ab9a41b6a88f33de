"""The DuckDB peer of MOD-THERAPY-MISSING and KX-MISSING flags what our rules flag and what the
sources expect: always-therapy lines with and without GP/GO/GN, a modifier of another
discipline than the rendering provider's, and the KX threshold crossed at each end of its
boundary, per group (PT and SLP together, OT apart) and year."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.benchmarks.duckdb_peer import modifiers, threshold
from tests.benchmarks.test_peer_documentation_time import D, both, signed, write


def test_therapy_modifiers(tmp_path: Path) -> None:
    claims = [
        ("GP", 1, "A", "PT1", "medicare", D, "97110", "GP", 1),
        ("NOMOD", 1, "A", "PT1", "medicare", D, "97112", "", 1),
        ("KXONLY", 1, "A", "PT1", "medicare", D, "97140", "KX", 1),  # KX is no therapy modifier
        ("TWO", 1, "A", "PT1", "medicare", D, "97116", "59:GP", 1),
        ("ZERO", 1, "A", "PT1", "medicare", D, "97530", "", 0),  # no unit billed
        # a PT evaluation names PT by its code, but the claim still needs GP
        ("EVAL", 1, "B", "PT1", "medicare", D, "97161", "", 1),
        ("EVALGP", 1, "B", "PT1", "medicare", D, "97162", "GP", 1),
        # GO on a line a PT rendered; GP by a PTA (a PT discipline); GO by an OT ("ot", as typed)
        ("WRONG", 1, "C", "PT1", "medicare", D, "97110", "GO", 1),
        ("PTA", 1, "C", "PTA1", "medicare", D, "97112", "GP", 1),
        ("OT", 1, "C", "OT1", "medicare", D, "97530", "GO", 1),
        ("UNKNOWN", 1, "C", "NOBODY", "medicare", D, "97535", "GN", 1),  # not in the export
        # not always-therapy codes: psychotherapy, a behavioral-health H-code
        ("PSY", 1, "E", "BH1", "medicare", D, "90837", "", 1),
        ("H", 1, "E", "BH1", "medicare", D, "H2014", "", 1),
        # the Medicare modifiers: off in the Medicaid and commercial profiles
        ("MCD", 1, "F", "PT1", "medicaid", D, "97110", "", 1),
        ("COM", 1, "F", "PT1", "commercial", D, "97110", "", 1),
        # a service year before the code table's first: its earliest year answers
        ("OLD", 1, "G", "PT1", "medicare", dt.date(2024, 6, 3), "97110", "", 1),
    ]
    notes = [("n1", "A", "PT1", D, "97110", "09:00", "09:15", 15, "PT", signed(0))]
    providers = [
        ("PT1", "P T", "PT", "pt", None),
        ("PTA1", "P A", "PTA", "PT", "PT1"),
        ("OT1", "O T", "OT", " ot ", None),
        ("BH1", "B H", "LCSW", "BH", None),
    ]
    folder = write(tmp_path, claims, notes, providers)
    mine, theirs = both(folder, [modifiers])
    # Pub. 100-04 ch. 5 §20.1: GP, GO or GN on every always-therapy line, naming the discipline
    expected = {
        "MOD-THERAPY-MISSING": {"NOMOD|1", "KXONLY|1", "EVAL|1", "WRONG|1", "OLD|1"},
    }
    assert mine == expected
    assert theirs == expected


def _line(
    claim: str,
    patient: str,
    day: dt.date,
    code: str,
    mods: str,
    allowed: Any,
    payer: str = "medicare",
    units: int = 1,
    paid: float | None = 50.0,
) -> tuple[Any, ...]:
    return (claim, 1, patient, "1", payer, day, code, mods, units, allowed, paid)


def test_kx_threshold(tmp_path: Path) -> None:
    """The 2026 KX threshold is $2,480, 2025's $2,410 (CY 2026 and 2025 PFS final rules)."""
    jan, feb, mar, apr, may = (dt.date(2026, m, 2) for m in (1, 2, 3, 4, 5))
    claims = [
        # PT spending reaches exactly $2,480 (not past it); the next line is past it: KX needed
        _line("A1", "A", jan, "97110", "GP", 1000.0),
        _line("A2", "A", feb, "97110", "GP", 1000.0),
        _line("A3", "A", mar, "97110", "GP", 480.0),
        _line("A4", "A", apr, "97110", "GP", 10.0),
        _line("A5", "A", may, "97110", "GP:KX", 10.0),
        # the line crossing the threshold needs KX; SLP counts with PT; OT apart never passes
        _line("B1", "B", jan, "97110", "GP", 2000.0),
        _line("B2", "B", feb, "92507", "GN", 500.0),
        _line("B3", "B", feb, "97530", "GO", 2000.0),
        _line("B4", "B", mar, "97530", "GO", 470.0),
        # the same day: in order of claim, then line ($2,475, $2,495, $2,500)
        _line("C1", "C", jan, "97110", "GP", 2470.0),
        ("C2", 1, "C", "1", "medicare", feb, "97112", "GP", 1, 5.0, 4.0),
        ("C2", 2, "C", "1", "medicare", feb, "97140", "GP", 1, 20.0, 16.0),
        ("C3", 1, "C", "1", "medicare", feb, "97116", "GP", 1, 5.0, 4.0),
        # no allowed amount: the fee schedule's 2026 rate for 97110 ($29.92) x 4 units, then
        # paid / (1 - 20 % coinsurance) for a code the schedule lacks ($400 / 0.8 = $500)
        _line("D1", "D", jan, "97110", "GP", 2400.0),
        _line("D2", "D", feb, "97110", "GP", None, units=4, paid=1.0),
        _line("D3", "D", mar, "97140", "GP", None, paid=400.0),
        # other payers' spending does not count toward Medicare's threshold
        _line("E1", "E", jan, "97110", "GP", 3000.0, payer="medicaid"),
        _line("E2", "E", feb, "97110", "GP", 100.0),
        # behavioral health and zero-unit lines count toward neither group
        _line("F1", "F", jan, "90837", "", 3000.0),
        _line("F2", "F", jan, "97110", "GP", 3000.0, units=0),
        _line("F3", "F", feb, "97110", "GP", 100.0),
        # 2025: its own threshold, $2,410
        _line("G1", "G", dt.date(2025, 3, 3), "97110", "GP", 2400.0),
        _line("G2", "G", dt.date(2025, 4, 1), "97110", "GP", 20.0),
        # a year the table has no threshold for is not checked
        _line("H1", "H", dt.date(2021, 3, 1), "97110", "GP", 5000.0),
    ]
    notes = [("n1", "A", "1", jan, "97110", "09:00", "09:15", 15, "PT", signed(0))]
    folder = write(tmp_path, claims, notes)
    mine, theirs = both(folder, [threshold])
    # Pub. 100-04 ch. 5 §10.3: per beneficiary and year, PT and SLP combined, OT separately
    expected = {
        "KX-MISSING": {"A4|1", "B2|1", "C2|2", "C3|1", "D2|1", "D3|1", "G2|1"},
    }
    assert mine == expected
    assert theirs == expected
