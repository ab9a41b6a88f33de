"""MOD-THERAPY-MISSING as DuckDB SQL, following our rules' docstrings: a billed line of an
"always therapy" code (the therapy code table of the latest year not after the service year,
else its earliest) without GP, GO or GN; and, with a providers export and the profile's
`check_provider_discipline`, a GP/GO/GN naming another discipline than the rendering
provider's.
"""

from __future__ import annotations

import duckdb

from flows.run.config import reference_tables
from tests.benchmarks.duckdb_peer.base import PeerContext, sql_list
from tests.benchmarks.duckdb_peer.documentation import scope_table

# the discipline each therapy modifier names (Pub. 100-04 ch. 5 §20.1)
MODIFIERS = {"GP": "PT", "GO": "OT", "GN": "SLP"}


def prepare(con: duckdb.DuckDBPyConnection, ctx: PeerContext) -> None:
    """The always-therapy code table by year, as `mod_therapy_codes` (code, year)."""
    # what load_context(None).reference holds, without reading the profiles and MUE again
    table = reference_tables().therapy_codes
    if table is None:
        raise ValueError("MOD-THERAPY-MISSING needs the therapy code reference table")
    con.register("mod_therapy_codes", table.select("code", "year"))


def modifier_discipline(column: str) -> str:
    """The discipline the line's GP/GO/GN names (GP first), else NULL."""
    cases = " ".join(
        f"WHEN regexp_matches(coalesce({column}, ''), '(^|:){m}(:|$)') THEN '{d}'"
        for m, d in MODIFIERS.items()
    )
    return f"CASE {cases} END"


def statements(ctx: PeerContext) -> dict[str, str]:
    """MOD-THERAPY-MISSING; the statement gives (claim_id, line_number, rule_id)."""
    check = scope_table(
        ctx,
        "MOD-THERAPY-MISSING",
        ["check_provider"],
        lambda p: [(bool(p["check_provider_discipline"]),)],
    )
    # a line's `ld` is its modifier's discipline, else its code's default: only the codes with
    # a default need the modifiers read again
    defaults = sql_list(set(ctx.codes.discipline)) if ctx.codes.discipline else "(NULL)"
    named = f"CASE WHEN l.procedure_code IN {defaults} THEN {modifier_discipline('l.modifiers')} "
    named += "ELSE l.ld END"
    if ctx.has("providers"):
        # the first row of each NPI, its discipline trimmed and upper-cased as the export is read
        providers = f"""
            SELECT npi,
                   arg_min(upper(regexp_replace(discipline, '^\\s+|\\s+$', '', 'g')),
                           file_row_number) AS pd
            FROM read_parquet('{ctx.folder / "providers.parquet"}', file_row_number = true)
            GROUP BY npi"""
    else:
        providers = "SELECT NULL::VARCHAR AS npi, NULL::VARCHAR AS pd WHERE false"
    missing = f"""
        WITH p AS {check},
        y AS (SELECT DISTINCT year(service_date) AS year FROM l WHERE units > 0),
        pick AS (
            SELECT y.year,
                   coalesce(max(t.year) FILTER (WHERE t.year <= y.year), min(t.year)) AS t_year
            FROM y CROSS JOIN mod_therapy_codes t GROUP BY y.year),
        codes AS (
            SELECT pick.year, t.code FROM pick JOIN mod_therapy_codes t ON t.year = pick.t_year),
        prov AS ({providers}),
        x AS (
            SELECT l.claim_id, l.line_number, p.check_provider, prov.pd, {named} AS md
            FROM l
            JOIN p ON p.payer_type = l.payer_type
            JOIN codes ON codes.year = year(l.service_date) AND codes.code = l.procedure_code
            LEFT JOIN prov ON prov.npi = l.rendering_npi
            WHERE l.units > 0)
        SELECT claim_id, line_number, 'MOD-THERAPY-MISSING' FROM x
        WHERE md IS NULL
           OR (check_provider AND pd IN {sql_list(set(MODIFIERS.values()))} AND md <> pd)"""
    return {"MOD-THERAPY-MISSING": missing}
