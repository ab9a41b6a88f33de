"""The documentation rules as DuckDB SQL, following our rules' docstrings: DOC-NO-NOTE
(a billed line no note of its service and discipline documents) and DOC-NOTE-UNSIGNED (a billed
line documented by a note row with no signature, or one signed more than the profile's
`late_after_days` after the service). Also the per-profile scope every module of this peer
shares: which payer types' lines a rule flags, with that profile's parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import duckdb

from tests.benchmarks.duckdb_peer.base import PeerContext, documents, sql_list

Params = Mapping[str, Any]


def owned(ctx: PeerContext) -> dict[str, tuple[str, ...]]:
    """Profile name -> the payer types whose lines it audits: the first profile that names a
    payer type owns it, as the engine assigns lines."""
    seen: set[str] = set()
    out: dict[str, tuple[str, ...]] = {}
    for name, profile in ctx.profiles.items():
        out[name] = tuple(p for p in profile.payer_types if p not in seen)
        seen |= set(profile.payer_types)
    return out


def enabled_payers(ctx: PeerContext, rule_id: str) -> tuple[str, ...]:
    """The payer types whose profile runs `rule_id`."""
    return tuple(
        payer
        for name, payers in owned(ctx).items()
        if ctx.profiles[name].rules[rule_id].enabled
        for payer in payers
    )


def literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value!r}::DOUBLE"
    return "'" + str(value).replace("'", "''") + "'"


def scope_table(
    ctx: PeerContext,
    rule_id: str,
    columns: Sequence[str],
    rows: Callable[[Params], Iterable[tuple[object, ...]]],
) -> str:
    """A subquery (payer_type, *columns): for each payer type whose profile runs `rule_id`, the
    rows `rows` makes of that profile's parameters (none: a typed empty table)."""
    values = [
        (payer, *row)
        for name, payers in owned(ctx).items()
        if ctx.profiles[name].rules[rule_id].enabled
        for payer in payers
        for row in rows(ctx.profiles[name].rules[rule_id].params)
    ]
    names = ", ".join(("payer_type", *columns))
    if not values:
        nulls = ", ".join(f"NULL AS {c}" for c in ("payer_type", *columns))
        return f"(SELECT {nulls} WHERE false)"
    body = ", ".join("(" + ", ".join(literal(v) for v in row) + ")" for row in values)
    return f"(SELECT * FROM (VALUES {body}) AS v({names}))"


def payer_list(payers: Iterable[str]) -> str:
    """An SQL list of the payer types, `(NULL)` (matching nothing) when there are none."""
    chosen = set(payers)
    return sql_list(chosen) if chosen else "(NULL)"


def prepare(con: duckdb.DuckDBPyConnection, ctx: PeerContext) -> None:
    # an export without an optional column reads as if it were there and blank, as our rules
    # read it (the columns OPTIONAL_COLUMNS names)
    con.execute("ALTER TABLE n ADD COLUMN IF NOT EXISTS signed_at TIMESTAMP")
    con.execute("ALTER TABLE n ADD COLUMN IF NOT EXISTS minutes BIGINT")


def statements(ctx: PeerContext) -> dict[str, str]:
    """DOC-NO-NOTE and DOC-NOTE-UNSIGNED; each statement gives (claim_id, line_number,
    rule_id)."""
    same_service = """
        k.patient_id = l.patient_id AND k.service_date = l.service_date
        AND k.procedure_code = l.procedure_code"""
    # Pub. 100-02 ch. 15 §220.3: every billed treatment needs its note; another clinician's
    # note of the service still documents it (the match ignores the provider)
    no_note = f"""
        SELECT l.claim_id, l.line_number, 'DOC-NO-NOTE' FROM l
        ANTI JOIN n AS k ON {same_service} AND {documents("l.ld", "k.nd")}
        WHERE l.units > 0 AND l.payer_type IN {payer_list(enabled_payers(ctx, "DOC-NO-NOTE"))}"""
    late = scope_table(
        ctx, "DOC-NOTE-UNSIGNED", ["late_after_days"], lambda p: [(p["late_after_days"],)]
    )
    # Pub. 100-08 ch. 3 §3.3.2.4: an unsigned entry does not authenticate the service; a late
    # signature is judged against each profile's own limit
    unsigned = f"""
        WITH p AS {late},
        k AS (
            SELECT patient_id, service_date, procedure_code, nd,
                   signed_at IS NULL AS unsigned, signed_at::DATE - service_date AS days_late
            FROM n
            WHERE signed_at IS NULL
               OR signed_at::DATE - service_date > (SELECT min(late_after_days) FROM p))
        SELECT DISTINCT l.claim_id, l.line_number, 'DOC-NOTE-UNSIGNED' FROM l
        JOIN p ON p.payer_type = l.payer_type
        JOIN k ON {same_service} AND {documents("l.ld", "k.nd")}
        WHERE l.units > 0 AND (k.unsigned OR k.days_late > p.late_after_days)
          -- not applicable when no note of the export has a signature date
          AND EXISTS (SELECT 1 FROM n WHERE signed_at IS NOT NULL)"""
    return {"DOC-NO-NOTE": no_note, "DOC-NOTE-UNSIGNED": unsigned}
