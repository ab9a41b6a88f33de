"""Codes no profile classifies (checks/unclassified.py), and the behavioral-health codes every
shipped profile classifies with their unit basis, from the codes' own descriptors."""

from __future__ import annotations

import polars as pl
import pytest

from checks.registry import all_rules
from checks.unclassified import classified, unclassified_codes
from tests.support.rulekit import shipped_profiles

PROFILES = shipped_profiles()

# code -> (unit basis, the descriptor's source). Timed: billed per 15 minutes; untimed: once per
# service, assessment or session (the psychotherapy codes' time ranges are TIME-PSYCHOTHERAPY's).
BEHAVIORAL_HEALTH = {
    "H0004": ("timed", "HCPCS II H0004: behavioral health counseling and therapy, per 15 minutes"),
    "T1017": ("timed", "HCPCS Level II T1017: targeted case management, each 15 minutes"),
    "96153": ("timed", "CPT 96153: health and behavior intervention, group, each 15 minutes"),
    "H0003": ("untimed", "HCPCS Level II H0003: alcohol and/or drug screening, per service"),
    "H0031": ("untimed", "HCPCS Level II H0031: mental health assessment, by non-physician"),
    "H0032": ("untimed", "HCPCS II H0032: mental health service plan development, non-physician"),
    "90832": ("untimed", "CPT 90832: psychotherapy, 30 minutes with patient (per session)"),
    "90833": ("untimed", "CPT 90833: psychotherapy, 30 minutes, with an E/M service (add-on)"),
    "90834": ("untimed", "CPT 90834: psychotherapy, 45 minutes with patient (per session)"),
    "90836": ("untimed", "CPT 90836: psychotherapy, 45 minutes, with an E/M service (add-on)"),
    "90837": ("untimed", "CPT 90837: psychotherapy, 60 minutes with patient (per session)"),
    "90838": ("untimed", "CPT 90838: psychotherapy, 60 minutes, with an E/M service (add-on)"),
    "90853": ("untimed", "CPT 90853: group psychotherapy (per session)"),
}  # fmt: skip


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("code", sorted(BEHAVIORAL_HEALTH))
def test_every_profile_knows_the_behavioral_health_codes(profile: str, code: str) -> None:
    basis, source = BEHAVIORAL_HEALTH[code]
    codes = PROFILES[profile].codes
    assert code in (codes.timed if basis == "timed" else codes.untimed), source
    other = codes.untimed if basis == "timed" else codes.timed
    assert code not in other | codes.per_session, source
    assert codes.discipline[code] == "BH", source


def _lines(*codes: str) -> pl.DataFrame:
    return pl.DataFrame({"procedure_code": list(codes)})


def test_lines_with_codes_no_profile_classifies_are_counted() -> None:
    lines = _lines("97110", "99213", "99213", "A0425", "H0004", "99213", "A0425", "G9999")
    found = unclassified_codes(lines, PROFILES.values(), all_rules())
    assert (found["lines"], found["codes"]) == (6, 3)
    # most lines first, then by code
    assert found["top"] == [
        {"code": "99213", "lines": 3},
        {"code": "A0425", "lines": 2},
        {"code": "G9999", "lines": 1},
    ]
    # the rules that still audit them: those that do not depend on a code's class
    assert "DOC-NO-NOTE" in found["audited_by"] and "UNITS-MUE" in found["audited_by"]
    assert "UNITS-8MIN" not in found["audited_by"]
    # a claims-only run: the rules that need notes did not run, so they audited nothing
    ran = set(all_rules()) - {"DOC-NO-NOTE", "DOC-NOTE-UNSIGNED"}
    found = unclassified_codes(lines, PROFILES.values(), all_rules(), ran)
    assert "DOC-NO-NOTE" not in found["audited_by"] and "UNITS-MUE" in found["audited_by"]


def test_no_unknown_code_counts_zero() -> None:
    found = unclassified_codes(_lines("97110", "90837"), PROFILES.values(), all_rules())
    assert (found["lines"], found["codes"], found["top"]) == (0, 0, [])


def test_one_profile_in_use_judges_by_its_own_codes() -> None:
    medicare = PROFILES["medicare"]
    narrowed = type(medicare.codes)(
        **{**medicare.codes.__dict__, "timed": medicare.codes.timed - {"97110"}}
    )
    profile = type(medicare)(**{**medicare.__dict__, "codes": narrowed})
    assert "97110" not in classified([profile])
    found = unclassified_codes(_lines("97110", "97140"), [profile], all_rules())
    assert found["top"] == [{"code": "97110", "lines": 1}]
