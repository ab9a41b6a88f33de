"""The peer a data analyst would write: our audit rules as DuckDB SQL over the same Parquet files.
The benchmark times it against our rules and checks that both flag the same claim lines, rule by
rule (tests/benchmarks/bench.py).

base.py builds what every rule reads (the line table `l`, the notes with their resolved
discipline `n`); each other module of this package holds the statements of some rule families,
`statements(ctx) -> {label: SQL}`, every statement giving rows (claim_id, line_number, rule_id).
A label names the rules its statement flags, separated by "/", then optionally a space and a
remark ("UNITS-8MIN (AMA)"); labels are unique across modules.
A module may also define `prepare(con, ctx)` for what its statements read besides the exports
(a reference table, say); that work is timed with the rest. Parameters come from the shipped
profiles, as our rules' do.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import duckdb

from checks.profile import Profile
from tests.benchmarks.duckdb_peer.base import PeerContext, setup

Flagged = dict[str, set[tuple[str, int]]]


def family_modules() -> list[ModuleType]:
    """Every module of this package but base, in name order."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "base")
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def statements(ctx: PeerContext) -> dict[str, str]:
    found: dict[str, str] = {}
    for module in family_modules():
        mine = module.statements(ctx)
        twice = set(found) & set(mine)
        if twice:
            raise ValueError(f"{module.__name__}: statement labels used twice: {sorted(twice)}")
        found |= mine
    return found


def run_peer(
    folder: Path, profiles: Mapping[str, Profile], threads: int | None = None
) -> tuple[float, Flagged]:
    """Seconds for every statement (the shared tables included) and the claim lines each rule
    flags; a rule that flags nothing is absent."""
    ctx = PeerContext(folder, profiles)
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    flagged: Flagged = {}
    prepared = setup(ctx)
    start = time.perf_counter()
    for sql in prepared:
        con.execute(sql)
    for module in family_modules():
        if hasattr(module, "prepare"):
            module.prepare(con, ctx)
    for sql in statements(ctx).values():
        for claim_id, line_number, rule_id in con.execute(sql).fetchall():
            flagged.setdefault(rule_id, set()).add((claim_id, int(line_number)))
    elapsed = time.perf_counter() - start
    con.close()
    return elapsed, flagged


def peer_rules(folder: Path, profiles: Mapping[str, Profile]) -> frozenset[str]:
    """The rule ids the peer covers on the exports in `folder`: those its statements' labels
    name (a module may look at the files to build its statements)."""
    ctx = PeerContext(folder, profiles)
    return frozenset(
        rule for label in statements(ctx) for rule in label.split(" ", 1)[0].split("/")
    )
