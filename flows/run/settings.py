"""The options of one audit run, resolved and checked before any work (flows/run/stages.py).

A typo should cost no audit: an unknown profile, a bad mapping, a bad reviewed-findings file or
period raises InputError / ProfileError here, before the exports are read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checks.period import Period
from flows.inputs.mapping import SourceMapping, load_mapping
from flows.run.context import RunContext, load_context
from flows.run.record import new_run_id
from flows.schedule.drop import parse_period
from flows.state import history as hist
from flows.state.damage import check_history
from flows.state.dispositions import load_dispositions
from reports.view_model import DEFAULT_PER_RULE
from schemas.errors import InputError

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class RunSettings:
    """Everything a run needs, resolved once; `history` None = no history, `period` the audit
    period (None = every claim line; checks/period.py); `context` the profiles and reference
    tables."""

    claims: Path
    # the evidence exports; None = not given (a claims-only audit)
    notes: Path | None
    plans: Path | None
    out_dir: Path
    run_id: str
    started_at: datetime
    scope: str
    context: RunContext
    profile: str | None = None
    mapping: SourceMapping | None = None
    redact: bool = False
    report: bool = True
    per_rule: int = DEFAULT_PER_RULE
    history: Path | None = None
    reviewed: Path | None = None
    period: Period | None = None
    expectations: bool = True
    # the optional providers export (schemas.contract.OPTIONAL_EXPORTS); None = not given
    providers: Path | None = None
    # the optional remittances (835 or a table; checks/remits.py); None = not given
    remits: Path | None = None
    # (name, UI address) of the Prefect flow run, for the report to link back; None: direct run
    flow_run: tuple[str, str] | None = None
    # `run --packets`: evidence packets for at most this many claims (0: none written)
    packets: int = 0

    def export_paths(self) -> dict[str, Path]:
        """export -> path of every export given: claims, notes, plans, providers, remits."""
        given = {
            "claims": self.claims,
            "notes": self.notes,
            "plans": self.plans,
            "providers": self.providers,
            "remits": self.remits,
        }
        return {e: p for e, p in given.items() if p is not None}


def settings(
    claims: PathLike,
    notes: PathLike | None,
    plans: PathLike | None,
    out_dir: PathLike,
    *,
    profile: str | None = None,
    mapping: PathLike | SourceMapping | None = None,
    redact: bool = False,
    report: bool = True,
    per_rule: int = DEFAULT_PER_RULE,
    scope: str | None = None,
    history: PathLike | bool | None = True,
    reviewed: PathLike | None = None,
    period: str | Period | list[str] | None = None,
    expectations: bool = True,
    run_id: str | None = None,
    now: datetime | None = None,
    providers: PathLike | None = None,
    remits: PathLike | None = None,
    packets: int = 0,
) -> RunSettings:
    """Check every option before any work, so a typo costs no audit: an unknown profile, a bad
    mapping, reviewed-findings file or period raises InputError/ProfileError here.

    `history`: True = the default database (history.default_history_path), a path, or
    False/None = no history."""
    context = load_context(profile)
    if mapping is not None and not isinstance(mapping, SourceMapping):
        mapping = load_mapping(mapping)
    if reviewed is not None:
        load_dispositions(reviewed)  # small file: a bad row is reported before the audit
    if per_rule < 1:
        raise InputError("--report-limit must be at least 1")
    if packets < 0:
        raise InputError("--packet-limit must be at least 1")
    if scope is not None and not scope.strip():
        raise InputError("--scope must not be blank")
    given = (
        ("claims", claims),
        ("notes", notes),
        ("plans", plans),
        ("providers", providers),
        ("remits", remits),
    )
    for export, path in given:
        # ingest says the same; here it costs no thread or server
        if path is not None and not Path(path).exists():
            raise InputError(f"{export} path '{path}' does not exist")
    now = now or datetime.now(UTC)
    out = Path(out_dir)
    db = hist.default_history_path(out) if history is True else history or None
    if db is not None:
        check_history(db)  # a damaged history stops the run here, one line, untouched
    claims_path = Path(claims)
    notes_path, plans_path, providers_path, remits_path = (
        None if p is None else Path(p) for p in (notes, plans, providers, remits)
    )
    default_scope = hist.default_scope(
        claims_path, notes_path, plans_path, profile, providers=providers_path, remits=remits_path
    )
    return RunSettings(
        claims=claims_path,
        notes=notes_path,
        plans=plans_path,
        out_dir=out,
        run_id=run_id or new_run_id(now),
        started_at=now,
        scope=scope.strip() if scope else default_scope,
        context=context,
        profile=profile or None,
        mapping=mapping,
        redact=redact,
        report=report,
        per_rule=per_rule,
        history=None if db is None else Path(db),
        reviewed=None if reviewed is None else Path(reviewed),
        period=parse_period(period),
        expectations=expectations,
        providers=providers_path,
        remits=remits_path,
        packets=packets,
    )


def run_options(s: RunSettings) -> dict[str, Any]:
    """The options of a run, for run.json (paths, no data)."""
    mapping = s.mapping
    return {
        "profile": s.profile,
        "mapping": None if mapping is None else str(mapping.path or mapping.name),
        "redact": s.redact,
        "scope": s.scope,
        "history": None if s.history is None else str(s.history),
        "reviewed": None if s.reviewed is None else str(s.reviewed),
        "period": None if s.period is None else [d.isoformat() for d in s.period],
        "expectations": s.expectations,
        "report": s.report,
        "report_limit": s.per_rule,
        "packets": s.packets,
    }
