"""The run context: payer profiles and reference tables, read from disk once per run.

Every stage that needs a profile, the MUE table, the fee schedule or another reference table
(add-on pairs, therapy codes and thresholds) takes them from here, so a
run reads each file once and every stage sees the same rules (a profile edited during a run
cannot give two stages two answers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from checks.profile import Profile
from checks.reference import Reference
from flows.run.config import (
    default_profiles,
    fee_schedule,
    mue_table,
    reference_tables,
    resolve_profile,
)


@dataclass(frozen=True)
class RunContext:
    # the shipped profiles by name; each line is audited under the one of its payer_type ...
    profiles: dict[str, Profile]
    # ... unless `--profile` audits every line under one profile
    override: Profile | None
    mue: pl.DataFrame
    fee_schedule: pl.DataFrame
    # add-on pairs, always-therapy codes, therapy thresholds, fee schedule (checks/reference.py)
    reference: Reference = field(default_factory=Reference)

    @property
    def in_use(self) -> dict[str, Profile]:
        """The profiles lines are audited under: the override alone, or every shipped one."""
        if self.override is not None:
            return {self.override.name: self.override}
        return self.profiles

    @property
    def label(self) -> str:
        """How the report names the profile choice."""
        if self.override is not None:
            return f"{self.override.name} for every line ({self.override.title})"
        return "by payer type (" + ", ".join(sorted(self.profiles)) + ")"


def load_context(profile: str | None) -> RunContext:
    """Read the profiles (and `profile`, a name or TOML file, if given) and the reference tables;
    a bad profile raises ProfileError naming the key and the file."""
    return RunContext(
        profiles=default_profiles(),
        override=resolve_profile(profile) if profile else None,
        mue=mue_table().collect(),
        fee_schedule=fee_schedule().collect(),
        reference=reference_tables(),
    )
