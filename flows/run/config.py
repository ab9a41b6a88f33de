"""Load payer profiles and versioned reference tables from disk (the I/O side of checks/profile)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import polars as pl

from checks.profile import Profile, ProfileError, build_profile
from checks.reference import (
    ADDON_SCHEMA,
    FEE_SCHEDULE_SCHEMA,
    THERAPY_CODES_SCHEMA,
    THRESHOLDS_SCHEMA,
    Reference,
)
from checks.registry import all_rules
from data import ADDON_CODES, FEE_SCHEDULE, MUE, PROFILES, THERAPY_CODES, THERAPY_THRESHOLDS

DEFAULT_PROFILES = ("medicare", "medicaid", "commercial")


def load_profile_file(path: Path) -> Profile:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ProfileError(f"profile file '{path}' does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile file '{path}' is not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"profile file '{path}' is not UTF-8 text") from None
    except (IsADirectoryError, PermissionError) as exc:
        raise ProfileError(f"profile file '{path}' cannot be read: {exc.strerror}") from None
    return build_profile(raw, str(path), all_rules())


def resolve_profile(name_or_file: str) -> Profile:
    """A shipped profile by name (medicare, medicaid, commercial) or a TOML file path."""
    shipped = PROFILES / f"{name_or_file}.toml"
    if shipped.exists():
        return load_profile_file(shipped)
    path = Path(name_or_file)
    if path.suffix.lower() != ".toml" and not path.exists():
        names = ", ".join(DEFAULT_PROFILES)
        raise ProfileError(f"unknown profile '{name_or_file}': use one of {names} or a .toml file")
    return load_profile_file(path)


def default_profiles() -> dict[str, Profile]:
    profiles = {name: load_profile_file(PROFILES / f"{name}.toml") for name in DEFAULT_PROFILES}
    claimed: dict[str, str] = {}
    for name, profile in profiles.items():
        for payer in profile.payer_types:
            if payer in claimed:
                raise ProfileError(
                    f"payer type '{payer}' is claimed by {claimed[payer]} and {name}"
                )
            claimed[payer] = name
    return profiles


def fee_schedule() -> pl.LazyFrame:
    return pl.scan_csv(FEE_SCHEDULE, schema=FEE_SCHEDULE_SCHEMA)


def reference_tables() -> Reference:
    """The versioned reference tables besides the MUE, read into memory (they are small)."""
    return Reference(
        addon_codes=pl.read_csv(ADDON_CODES, schema=ADDON_SCHEMA),
        therapy_codes=pl.read_csv(THERAPY_CODES, schema=THERAPY_CODES_SCHEMA),
        thresholds=pl.read_csv(THERAPY_THRESHOLDS, schema=THRESHOLDS_SCHEMA),
        fee_schedule=fee_schedule().collect(),
    )


def mue_table() -> pl.LazyFrame:
    return pl.scan_csv(
        MUE,
        schema={"code": pl.String, "year": pl.Int32, "mue": pl.Int64, "source": pl.String},
    )
