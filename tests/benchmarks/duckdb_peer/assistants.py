"""ASSISTANT-MOD-MISSING as DuckDB SQL, following the rule docstring in checks/rules/assistants.py:
billed lines short of the CQ (PTA) or CO (OTA) units their service needs. Every unit of a line an
assistant rendered needs it; for a service an assistant's notes document in part, the units CMS's
per-unit method gives the assistant (whole 15 minutes to whoever furnished them, then each
remaining unit to whoever furnished more of its minutes; CY 2022 PFS final rule), less the units
billed with the modifier, charged to the lines without it, later-billed first; a service's lines
pool by discipline and payer. Needs the
providers export (roles); the rule is a Medicare payment rule, off in the other profiles.
"""

from __future__ import annotations

from tests.benchmarks.duckdb_peer.base import PeerContext, documents, profile_groups, union
from tests.benchmarks.duckdb_peer.units import BEFORE

RULE = "ASSISTANT-MOD-MISSING"


def _statement(ctx: PeerContext, modifiers: dict[str, str], payers: str) -> str:
    by_role = " ".join(f"WHEN '{role}' THEN '{mod}'" for role, mod in sorted(modifiers.items()))
    providers = f"read_parquet('{ctx.folder / 'providers.parquet'}', file_row_number = true)"
    carried = "list_contains(string_split(coalesce(b.modifiers, ''), ':'), {})"
    return f"""
        WITH p AS (
            SELECT npi::VARCHAR AS npi, upper(trim(role)) AS role, file_row_number
            FROM {providers}),
        -- the first row of each assistant's npi, as the export lists them
        asst AS (
            SELECT npi, role, CASE role {by_role} END AS expected FROM p
            WHERE CASE role {by_role} END IS NOT NULL
            QUALIFY row_number() OVER (PARTITION BY npi ORDER BY file_row_number) = 1),
        b AS (
            SELECT claim_id, line_number, patient_id, service_date, procedure_code, ld,
                   payer_type, rendering_npi, modifiers, units,
                   -- a line of unknown discipline pools with its service's one known one
                   coalesce(ld, CASE WHEN min(ld) OVER s = max(ld) OVER s THEN min(ld) OVER s
                                END) AS pd
            FROM l WHERE units > 0 AND payer_type IN {payers}
            WINDOW s AS (PARTITION BY patient_id, service_date, procedure_code)),
        rendered AS (
            SELECT b.claim_id, b.line_number FROM b JOIN asst ON asst.npi = b.rendering_npi
            WHERE NOT {carried.format("asst.expected")}),
        an AS (
            SELECT n.patient_id, n.service_date, n.procedure_code, n.nd, n.minutes,
                   asst.role, asst.expected
            FROM n JOIN asst ON asst.npi = n.provider_npi),
        -- per line: the minutes of the assistant's notes that document it, and of all its notes
        per_line AS (
            SELECT b.claim_id, b.line_number, b.patient_id, b.service_date, b.procedure_code,
                   b.ld, b.pd, b.payer_type, an.role, an.expected,
                   coalesce(sum(an.minutes), 0) AS assistant,
                   bool_or(an.minutes IS NULL) AS unknown
            FROM b JOIN an
              ON an.patient_id = b.patient_id AND an.service_date = b.service_date
             AND an.procedure_code = b.procedure_code AND {documents("b.ld", "an.nd")}
            GROUP BY ALL),
        total AS (
            SELECT x.claim_id, x.line_number, coalesce(sum(n.minutes), 0) AS total
            FROM (SELECT DISTINCT claim_id, line_number, patient_id, service_date,
                                  procedure_code, ld FROM per_line) x
            JOIN n ON n.patient_id = x.patient_id AND n.service_date = x.service_date
                  AND n.procedure_code = x.procedure_code AND {documents("x.ld", "n.nd")}
            GROUP BY ALL),
        -- a service's lines pool by discipline and payer (Pub. 100-04 ch. 5 §20.1: CQ is a
        -- PT modifier, CO an OT one; each payer's claim carries its own units)
        svc AS (
            SELECT patient_id, service_date, procedure_code, pd, payer_type, role, expected,
                   max(assistant) AS a, max(total) AS t0, bool_or(unknown) AS unknown
            FROM per_line JOIN total USING (claim_id, line_number)
            GROUP BY ALL),
        d AS (
            SELECT b.claim_id, b.line_number, b.units, svc.expected, svc.a, svc.unknown,
                   greatest(svc.t0 - svc.a, 0) AS t,
                   {carried.format("svc.expected")} AS carried,
                   sum(b.units) OVER w AS billed,
                   sum(CASE WHEN {carried.format("svc.expected")} THEN b.units ELSE 0 END)
                       OVER w AS with_modifier,
                   b.patient_id, b.service_date, b.procedure_code, b.pd, b.payer_type
            FROM b JOIN svc USING (patient_id, service_date, procedure_code, payer_type)
            WHERE b.pd IS NOT DISTINCT FROM svc.pd
            WINDOW w AS (PARTITION BY b.patient_id, b.service_date, b.procedure_code, b.pd,
                         b.payer_type, svc.expected)),
        -- whole 15 minutes to whoever furnished them, then a remaining unit to whoever
        -- furnished more of its minutes (a tie goes to the assistant)
        u AS (
            SELECT *, greatest(billed - a // 15 - t // 15, 0) AS unit_left,
                   a % 15 AS ra, t % 15 AS rt
            FROM d),
        need AS (
            SELECT *,
                   CASE WHEN t <= 0 THEN billed
                        ELSE least(billed, a // 15 + CASE
                            WHEN ra = 0 THEN 0
                            WHEN ra >= rt THEN least(unit_left, 1)
                            ELSE least(greatest(unit_left - 1, 0), 1) END) END AS need0
            FROM u),
        short AS (
            SELECT claim_id, line_number, units,
                   greatest(CASE WHEN unknown THEN greatest(need0, 1) ELSE need0 END
                            - with_modifier, 0) AS shortfall,
                   coalesce(sum(units) OVER (
                       PARTITION BY patient_id, service_date, procedure_code, pd, payer_type,
                                    expected
                       {BEFORE}), 0) AS before
            FROM need
            WHERE NOT carried
              AND CASE WHEN unknown THEN greatest(need0, 1) ELSE need0 END > with_modifier)
        SELECT claim_id, line_number, '{RULE}' FROM rendered
        UNION
        SELECT claim_id, line_number, '{RULE}' FROM short
        WHERE least(units, greatest(shortfall - before, 0)) > 0"""


def statements(ctx: PeerContext) -> dict[str, str]:
    """ASSISTANT-MOD-MISSING when the providers export is given (its parameters besides the
    modifiers set only the amount at risk); gives (claim_id, line_number, rule_id)."""
    if not ctx.has("providers"):
        return {RULE: union([], RULE)}
    parts = [
        _statement(ctx, params["assistant_modifiers"], payers)
        for params, payers in profile_groups(ctx, RULE)
    ]
    return {RULE: union(parts, RULE)}
