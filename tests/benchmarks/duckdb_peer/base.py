"""What every DuckDB peer shares: the line table `l` and the resolved note table `n`, and the SQL
of the disciplines, built the way checks/matching.py resolves them.

A line's discipline is its GP/GO/GN modifier, else its code's; a note's is its `discipline`
column, else the one known discipline of the lines of its patient, date and code, else that of
the lines its provider rendered for that service, else the one discipline its provider billed the
patient that day. A line matches the notes of its service whose discipline is its own or unknown
(a line of unknown discipline matches them all).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from checks.base import CodeSets
from checks.profile import Profile


def sql_list(codes: frozenset[str] | set[str]) -> str:
    return "(" + ", ".join(f"'{c}'" for c in sorted(codes)) + ")"


def code_discipline(codes: CodeSets) -> str:
    by_code = " ".join(f"WHEN '{c}' THEN '{d}'" for c, d in sorted(codes.discipline.items()))
    return f"CASE procedure_code {by_code} ELSE NULL END"


def line_discipline(codes: CodeSets) -> str:
    return f"""CASE
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GP(:|$)') THEN 'PT'
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GO(:|$)') THEN 'OT'
        WHEN regexp_matches(coalesce(modifiers, ''), '(^|:)GN(:|$)') THEN 'SLP'
        ELSE {code_discipline(codes)} END"""


# a note's start and end as minutes of the day, the note time columns' resolution
NOTE_MINUTES = """hour(start_time) * 60 + minute(start_time) AS s,
                   hour(end_time) * 60 + minute(end_time) AS e"""


# a note of discipline `n` documents a line of discipline `l` (either unknown: it does)
def documents(line: str, note: str) -> str:
    return f"({line} IS NULL OR {note} IS NULL OR {line} = {note})"


# a plan of discipline `p` covers a line of discipline `l` (Pub. 100-02 ch. 15 §220.1)
def plan_ok(line: str, plan: str) -> str:
    return f"({plan} IS NULL OR {line} = {plan} OR ({line} IS NULL AND {plan} <> 'BH'))"


def first_treatment(codes: CodeSets) -> str:
    """CTEs `tx` (the days with a service of a discipline: billed lines, evaluations included,
    and notes of known discipline, resolved else the code's) and `first_tx` (each plan's first
    such day within its dates, Pub. 100-02 ch. 15 §220.1.3 B), for a query whose CTE `p` holds
    the plans: plan_row, patient_id, pd (discipline), cert_start, cert_end."""
    return f"""
        tx AS (
            SELECT patient_id, service_date, ld AS d FROM l WHERE units > 0
            UNION
            SELECT patient_id, service_date, coalesce(nd, {code_discipline(codes)}) FROM n
            WHERE coalesce(nd, {code_discipline(codes)}) IS NOT NULL),
        first_tx AS (
            SELECT p.plan_row, min(tx.service_date) AS first_tx
            FROM p JOIN tx ON tx.patient_id = p.patient_id AND {plan_ok("tx.d", "p.pd")}
             AND tx.service_date BETWEEN p.cert_start AND p.cert_end
            GROUP BY ALL)"""


@dataclass(frozen=True)
class PeerContext:
    """What a peer reads: the folder of Parquet exports (claims, notes, plans, providers) and the
    shipped payer profiles, whose parameters a peer takes as our rules do (never literals)."""

    folder: Path
    profiles: Mapping[str, Profile]

    @property
    def codes(self) -> CodeSets:
        # the shipped profiles classify codes alike (data/profiles): one set serves every payer
        return self.profiles["medicare"].codes

    def table(self, export: str) -> str:
        return f"read_parquet('{self.folder / f'{export}.parquet'}')"

    def has(self, export: str) -> bool:
        return (self.folder / f"{export}.parquet").exists()


def columns(table: str) -> list[str]:
    """The column names of a table expression (`ctx.table(...)`)."""
    return [row[0] for row in duckdb.execute(f"DESCRIBE SELECT * FROM {table}").fetchall()]


def setup(ctx: PeerContext) -> list[str]:
    """Temp tables `l` (every claim column and the line's discipline `ld`) and `n` (every note
    column but the text, the resolved discipline `nd` and `billed`: a line billing units of the
    note's service and discipline documents it)."""
    codes = ctx.codes
    claims, notes = ctx.table("claims"), ctx.table("notes")
    explicit = (
        "CASE WHEN discipline IN ('PT', 'OT', 'SLP', 'BH') THEN discipline END"
        if "discipline" in columns(notes)
        else "NULL"
    )
    lines = f"""
        CREATE OR REPLACE TEMP TABLE l AS
        SELECT *, {line_discipline(codes)} AS ld FROM {claims}"""
    resolved = f"""
        CREATE OR REPLACE TEMP TABLE n AS
        WITH svc AS (
            SELECT patient_id, service_date, procedure_code,
                   CASE WHEN min(ld) = max(ld) THEN min(ld) END AS svc_d,
                   bool_or(units > 0) AS b_any,
                   bool_or(units > 0 AND ld IS NULL) AS b_unknown,
                   bool_or(units > 0 AND ld = 'PT') AS b_pt,
                   bool_or(units > 0 AND ld = 'OT') AS b_ot,
                   bool_or(units > 0 AND ld = 'SLP') AS b_slp,
                   bool_or(units > 0 AND ld = 'BH') AS b_bh
            FROM l GROUP BY ALL),
        by_provider AS (
            SELECT patient_id, service_date, procedure_code, rendering_npi AS provider_npi,
                   CASE WHEN min(ld) = max(ld) THEN min(ld) END AS prov_d
            FROM l WHERE ld IS NOT NULL GROUP BY ALL),
        by_day AS (
            SELECT patient_id, service_date, rendering_npi AS provider_npi,
                   CASE WHEN min(ld) = max(ld) THEN min(ld) END AS day_d
            FROM l WHERE ld IS NOT NULL GROUP BY ALL),
        r AS (
            SELECT x.* EXCLUDE (ed, note_text),
                   coalesce(x.ed, s.svc_d, p.prov_d, d.day_d) AS nd, s.* EXCLUDE (
                       patient_id, service_date, procedure_code, svc_d)
            FROM (SELECT *, {explicit} AS ed FROM {notes}) x
            LEFT JOIN svc s USING (patient_id, service_date, procedure_code)
            LEFT JOIN by_provider p USING (patient_id, service_date, procedure_code, provider_npi)
            LEFT JOIN by_day d USING (patient_id, service_date, provider_npi))
        SELECT r.* EXCLUDE (b_any, b_unknown, b_pt, b_ot, b_slp, b_bh),
               coalesce(CASE nd WHEN 'PT' THEN b_pt WHEN 'OT' THEN b_ot WHEN 'SLP' THEN b_slp
                                WHEN 'BH' THEN b_bh ELSE b_any END
                        OR (nd IS NOT NULL AND b_unknown), false) AS billed
        FROM r"""
    return [lines, resolved]


def profile_groups(
    ctx: PeerContext, rule_id: str, when: Callable[[dict[str, Any]], bool] = lambda p: True
) -> list[tuple[dict[str, Any], str]]:
    """(parameters, SQL list of payer types) per distinct configuration of `rule_id` among the
    profiles that enable it (and whose parameters satisfy `when`), as the engine groups them."""
    groups: dict[str, tuple[dict[str, Any], set[str]]] = {}
    for profile in ctx.profiles.values():
        settings = profile.rules[rule_id]
        if settings.enabled and profile.payer_types and when(settings.params):
            key = repr(sorted(settings.params.items()))
            groups.setdefault(key, (settings.params, set()))[1].update(profile.payer_types)
    return [(params, sql_list(payers)) for params, payers in groups.values()]


def union(parts: list[str], rule_id: str) -> str:
    """The statements of each configuration, one after the other (none: no row)."""
    empty = f"SELECT NULL::VARCHAR, NULL::BIGINT, '{rule_id}' WHERE false"
    return "\nUNION ALL\n".join(f"({part})" for part in parts) or empty
