"""What every DuckDB peer shares: the line table `l` and the resolved note table `n`, and the SQL
of the disciplines, built the way checks/matching.py resolves them.

A line's discipline is its GP/GO/GN modifier, else its code's; a note's is its `discipline`
column, else the one known discipline of the lines of its patient, date and code, else that of
the lines its provider rendered for that service, else the one discipline its provider billed the
patient that day. A line matches the notes of its service whose discipline is its own or unknown
(a line of unknown discipline matches them all).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

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


# a note of discipline `n` documents a line of discipline `l` (either unknown: it does)
def documents(line: str, note: str) -> str:
    return f"({line} IS NULL OR {note} IS NULL OR {line} = {note})"


# a plan of discipline `p` covers a line of discipline `l` (Pub. 100-02 ch. 15 §220.1)
def plan_ok(line: str, plan: str) -> str:
    return f"({plan} IS NULL OR {line} = {plan} OR ({line} IS NULL AND {plan} <> 'BH'))"


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


def setup(ctx: PeerContext) -> list[str]:
    """Temp tables `l` (every claim column and the line's discipline `ld`) and `n` (every note
    column but the text, the resolved discipline `nd` and `billed`: a line billing units of the
    note's service and discipline documents it)."""
    codes = ctx.codes
    claims, notes = ctx.table("claims"), ctx.table("notes")
    explicit = (
        "CASE WHEN discipline IN ('PT', 'OT', 'SLP', 'BH') THEN discipline END"
        if "discipline"
        in duckdb.sql(f"DESCRIBE SELECT * FROM {notes}").df()["column_name"].tolist()
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
