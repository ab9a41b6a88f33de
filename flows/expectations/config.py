"""Thresholds of the dataset expectations: `data/expectations.toml`, overlaid key by key with a
user's file; an unknown key or a bad value is an error naming the key and the file."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from checks.profile import Profile
from data import EXPECTATIONS
from schemas.errors import InputError

DEFAULT_CONFIG = EXPECTATIONS
_EXPORTS = ("claims", "notes", "plans")

# key -> kind; kinds: "count" (int >= 0), "number" (>= 0), "share" (0..1)
_SCHEMA: dict[str, Any] = {
    "row_counts": {export: {"min": "count", "max": "count"} for export in _EXPORTS},
    "notes_without_times": {"max_share": "share"},
    "timed_units": {
        "min_lines": "count",
        "min_mean": "number",
        "max_mean": "number",
        "max_units_per_line": "count",
        "max_share_above": "share",
    },
    "unknown_codes": {"max_share": "share"},
    "service_dates": {"max_share_outside": "share"},
}


class ExpectationsConfigError(InputError):
    """The expectations TOML is unreadable or has an unknown key or a bad value."""


def _flatten(raw: dict[str, Any], schema: dict[str, Any], prefix: str, path: Path) -> dict:
    flat: dict[str, Any] = {}
    for key, value in raw.items():
        where = f"{prefix}{key}"
        if key not in schema:
            raise ExpectationsConfigError(f"unknown key '{where}' in expectations file '{path}'")
        kind = schema[key]
        if isinstance(kind, dict):
            if not isinstance(value, dict):
                raise ExpectationsConfigError(
                    f"'{where}' in expectations file '{path}' must be a table"
                )
            flat.update(_flatten(value, kind, f"{where}.", path))
            continue
        number = isinstance(value, int | float) and not isinstance(value, bool)
        ok = number and value >= 0
        if kind == "count":
            ok = ok and isinstance(value, int)
        elif kind == "share":
            ok = ok and value <= 1
        if not ok:
            need = {"count": "a whole number >= 0", "number": "a number >= 0"}
            raise ExpectationsConfigError(
                f"'{where}' in expectations file '{path}' must be "
                f"{need.get(kind, 'a share between 0 and 1')}"
            )
        flat[where] = value
    return flat


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ExpectationsConfigError(f"expectations file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError):
        raise ExpectationsConfigError(f"expectations file '{path}' cannot be read") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExpectationsConfigError(
            f"expectations file '{path}' is not valid TOML: {exc}"
        ) from None


def load_config(config_path: Path | str | None = None) -> dict[str, Any]:
    """Shipped thresholds overlaid with `config_path`'s, flat: {"timed_units.min_mean": 1.0}."""
    flat = _flatten(_read_toml(DEFAULT_CONFIG), _SCHEMA, "", DEFAULT_CONFIG)
    if config_path is not None:
        path = Path(config_path)
        flat.update(_flatten(_read_toml(path), _SCHEMA, "", path))
    for lo, hi, where in [
        ("timed_units.min_mean", "timed_units.max_mean", "timed_units"),
        *((f"row_counts.{e}.min", f"row_counts.{e}.max", f"row_counts.{e}") for e in _EXPORTS),
    ]:
        if lo in flat and hi in flat and flat[lo] > flat[hi]:
            raise ExpectationsConfigError(
                f"'{lo}' is above '{hi}' in the expectations for {where} "
                f"('{config_path or DEFAULT_CONFIG}')"
            )
    return flat


def known_code_sets(profiles: Iterable[Profile]) -> tuple[frozenset[str], frozenset[str]]:
    """(every code the profiles name, the union of their timed codes)."""
    known: set[str] = set()
    timed: set[str] = set()
    for profile in profiles:
        c = profile.codes
        known |= c.timed | c.untimed | c.per_session | c.one_on_one | c.evaluation
        known |= set(c.discipline)
        timed |= c.timed
    return frozenset(known), frozenset(timed)
