"""Every rule parameter has a type and a range in its declaration, and a profile value outside it
is a configuration error naming the key, the file and the range (never a traceback, never an
overflowing date or an infinite amount in the audit)."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from pathlib import Path
from typing import Any

import pytest

from checks.declare import Param
from checks.profile import ProfileError, build_profile
from checks.registry import all_rules
from flows.run.config import load_profile_file

PARAMS = [(rule_id, p) for rule_id, rule in all_rules().items() for p in rule.params]


@pytest.mark.parametrize(("rule_id", "param"), PARAMS, ids=[f"{r}.{p.name}" for r, p in PARAMS])
def test_every_declared_parameter_is_bounded_and_its_default_is_within(
    rule_id: str, param: Param
) -> None:
    assert param.bounded, f"{rule_id}.{param.name} declares no range (minimum/maximum, choices…)"
    assert param.problem(param.default) is None


def _profile(rule_id: str, key: str, value: Any) -> dict[str, Any]:
    return {"profile": {"name": "x"}, "rules": {rule_id: {key: value}}}


# (rule, key, value, expected message part); found by an adversarial pass: 1e9 days overflowed
# the certification dates, inf/nan/1e400 (valid TOML floats) gave tracebacks
BAD = [
    ("POC-EXPIRED", "max_cert_days", 1_000_000_000, "must be between 1 and 1095"),
    ("POC-EXPIRED", "max_cert_days", 0, "must be between 1 and 1095"),
    ("POC-EXPIRED", "max_cert_days", math.inf, "finite number between 1 and 1095"),
    ("POC-EXPIRED", "max_cert_days", math.nan, "finite number between 1 and 1095"),
    ("KX-MISSING", "coinsurance", math.inf, "finite number between 0.0 and 0.99"),
    ("KX-MISSING", "coinsurance", 1.0, "between 0.0 and 0.99"),
    ("KX-MISSING", "payer_types", ["Medicare"], "one of medicare, medicaid"),
    ("ASSISTANT-MOD-MISSING", "payment_reduction", -0.1, "between 0.0 and 1.0"),
    ("ASSISTANT-MOD-MISSING", "assistant_modifiers", {"PTA": "CQX"}, "value of PTA must match"),
    ("ASSISTANT-MOD-MISSING", "assistant_modifiers", {"Aide": "CQ"}, "key must be one of"),
    ("POC-UNSIGNED", "order_path_from", dt.date(1, 1, 1), "between 1900-01-01 and 2100-12-31"),
    ("POC-UNSIGNED", "order_path_from", "2025-01-01", "must be a date"),
    ("POC-UNSIGNED", "accept_order_path", 1, "true or false"),
    ("TIME-PSYCHOTHERAPY", "min_minutes", {"90837": 10**12}, "value of 90837 must be between"),
    ("TIME-PSYCHOTHERAPY", "min_minutes", {"90837": "53"}, "value of 90837 must be a number"),
    ("TIME-PSYCHOTHERAPY", "max_minutes", {"9O837": 60}, "key must match"),
    ("UNITS-8MIN", "per_code", ["97110", 97112], "item must be text"),
    ("UNITS-8MIN", "unit_minutes", True, "must be a number"),
    ("OVERLAP-DAY-CAP", "cap_minutes", 1e400, "finite number"),
    ("PROGRESS-REPORT-LATE", "report_types", ["progress note"], "item must match"),
]


@pytest.mark.parametrize(("rule_id", "key", "value", "expected"), BAD)
def test_a_value_out_of_range_names_the_key_file_and_range(
    rule_id: str, key: str, value: Any, expected: str
) -> None:
    with pytest.raises(ProfileError) as err:
        build_profile(_profile(rule_id, key, value), "mine.toml", all_rules())
    text = str(err.value)
    assert text.startswith(f"profile mine.toml: rules.{rule_id}.{key} ")
    assert expected in text


@pytest.mark.parametrize(
    ("rule_id", "key", "value"),
    [
        ("PROGRESS-REPORT-LATE", "report_types", ["Progress", "DISCHARGE"]),  # the rule folds case
        ("POC-EXPIRED", "max_cert_days", 1095),
        ("KX-MISSING", "coinsurance", 0),
        ("TIME-PSYCHOTHERAPY", "min_minutes", {"90837": 53.0}),
    ],
)
def test_values_within_the_range_load(rule_id: str, key: str, value: Any) -> None:
    profile = build_profile(_profile(rule_id, key, value), "mine.toml", all_rules())
    assert profile.rules[rule_id].params[key] == value


@pytest.mark.parametrize("literal", ["inf", "nan", "1e400", "-inf"])
def test_toml_special_floats_are_config_errors(tmp_path: Path, literal: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f'[profile]\nname = "p"\n[rules."POC-EXPIRED"]\nmax_cert_days = {literal}\n')
    parsed = tomllib.loads(path.read_text())["rules"]["POC-EXPIRED"]["max_cert_days"]
    assert not math.isfinite(parsed)
    with pytest.raises(ProfileError, match=r"p\.toml: rules\.POC-EXPIRED\.max_cert_days must be"):
        load_profile_file(path)
