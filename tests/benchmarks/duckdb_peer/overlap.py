"""The provider-scoped overlap rules as DuckDB SQL, following the rule docstrings in
checks/rules/overlap.py: OVERLAP-PROVIDER and OVERLAP-DAY-CAP. Both look at a provider's whole
day, every payer's lines and notes included, and flag the lines of the payers whose profile
enables them.

Times are whole minutes of the day, intervals half-open [start, end): touching notes do not
overlap, and a note whose end is not after its start takes part in no comparison.
"""

from __future__ import annotations

from tests.benchmarks.duckdb_peer.base import (
    NOTE_MINUTES,
    PeerContext,
    documents,
    profile_groups,
    sql_list,
    union,
)


def _provider(ctx: PeerContext, m: int, payers: str) -> str:
    """A note row sharing at least `m` minutes with the merged time of another patient of the
    same provider and day (Pub. 100-02 ch. 15 §220.2), its service's lines flagged."""
    one_on_one = sql_list(ctx.codes.one_on_one)
    return f"""
        WITH iv AS (
            SELECT patient_id, provider_npi, service_date, procedure_code, nd,
                   {NOTE_MINUTES}
            FROM n
            WHERE procedure_code IN {one_on_one} AND start_time IS NOT NULL
              AND end_time IS NOT NULL),
        rows AS (SELECT * FROM iv WHERE e > s),
        -- a patient's own overlapping or touching notes are one stretch of time with the
        -- therapist: a new stretch starts after the latest end so far
        starts AS (
            SELECT *, coalesce(s > max(e) OVER (
                PARTITION BY provider_npi, service_date, patient_id ORDER BY s, e
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), true)::INT AS new
            FROM rows),
        numbered AS (
            SELECT *, sum(new) OVER (
                PARTITION BY provider_npi, service_date, patient_id ORDER BY s, e
                ROWS UNBOUNDED PRECEDING) AS block
            FROM starts),
        blocks AS (
            SELECT provider_npi, service_date, patient_id, min(s) AS cs, max(e) AS ce
            FROM numbered GROUP BY provider_npi, service_date, patient_id, block
            HAVING max(e) - min(s) >= {m}),
        hit AS (
            SELECT DISTINCT r.patient_id, r.service_date, r.procedure_code, r.nd
            FROM rows r JOIN blocks b
              ON b.provider_npi = r.provider_npi AND b.service_date = r.service_date
             AND b.patient_id <> r.patient_id
             AND b.cs <= r.e - {m} AND b.ce >= r.s + {m}
            WHERE r.e - r.s >= {m})
        SELECT DISTINCT l.claim_id, l.line_number, 'OVERLAP-PROVIDER' FROM l
        JOIN hit ON hit.patient_id = l.patient_id AND hit.service_date = l.service_date
                AND hit.procedure_code = l.procedure_code AND {documents("l.ld", "hit.nd")}
        WHERE l.units > 0 AND l.payer_type IN {payers}"""


def _day_cap(ctx: PeerContext, cap: int, unit: int, payers: str) -> str:
    """The timed lines of a rendering provider's day, in the order of their notes' start times
    (none last, then claim and line), whose running minutes pass the cap (OIG OEI-04-09-00540)."""
    timed = sql_list(ctx.codes.timed)
    return f"""
        WITH t0 AS (
            SELECT claim_id, line_number, patient_id, rendering_npi, service_date,
                   procedure_code, payer_type, ld, units,
                   sum(units) OVER (PARTITION BY rendering_npi, service_date, patient_id,
                                    procedure_code, payer_type) AS pu
            FROM l WHERE units > 0 AND procedure_code IN {timed}),
        -- a session billed to two payer types is the provider's time once: on the payer type
        -- billing the most of its units (a dual-eligible's Medicare and Medicaid claims)
        t AS (
            SELECT *,
                   CASE WHEN payer_type = first(payer_type ORDER BY pu DESC, payer_type) OVER (
                       PARTITION BY rendering_npi, service_date, patient_id, procedure_code)
                        THEN units * {unit} ELSE 0 END AS counted
            FROM t0),
        over AS (
            SELECT rendering_npi, service_date FROM t GROUP BY ALL
            HAVING sum(counted) > {cap}),
        tl AS (
            SELECT t.* FROM t
            JOIN over ON over.rendering_npi IS NOT DISTINCT FROM t.rendering_npi
                     AND over.service_date = t.service_date),
        -- the earliest start among the notes documenting the line
        starts AS (
            SELECT tl.claim_id, tl.line_number, min(n.start_time) AS note_start
            FROM tl JOIN n ON n.patient_id = tl.patient_id AND n.service_date = tl.service_date
                          AND n.procedure_code = tl.procedure_code AND {documents("tl.ld", "n.nd")}
            GROUP BY ALL),
        r0 AS (
            SELECT tl.claim_id, tl.line_number, tl.payer_type, tl.counted, tl.rendering_npi,
                   tl.service_date, tl.patient_id, tl.procedure_code,
                   sum(tl.counted) OVER (
                       PARTITION BY tl.rendering_npi, tl.service_date
                       ORDER BY s.note_start NULLS LAST, tl.claim_id, tl.line_number
                       ROWS UNBOUNDED PRECEDING) AS running
            FROM tl LEFT JOIN starts s USING (claim_id, line_number)),
        -- another payer's claim of a session is past the cap when the claim counting it is
        r AS (
            SELECT *,
                   CASE WHEN counted > 0 THEN running
                        ELSE max(CASE WHEN counted > 0 THEN running END) OVER (
                            PARTITION BY rendering_npi, service_date, patient_id,
                                         procedure_code) END AS past
            FROM r0)
        SELECT claim_id, line_number, 'OVERLAP-DAY-CAP' FROM r
        WHERE payer_type IN {payers} AND past > {cap}"""


def statements(ctx: PeerContext) -> dict[str, str]:
    """OVERLAP-PROVIDER and OVERLAP-DAY-CAP, one statement per configuration of the profiles."""
    provider = [
        _provider(ctx, params["min_overlap_minutes"], payers)
        for params, payers in profile_groups(ctx, "OVERLAP-PROVIDER")
    ]
    day_cap = [
        _day_cap(ctx, params["cap_minutes"], params["unit_minutes"], payers)
        for params, payers in profile_groups(ctx, "OVERLAP-DAY-CAP")
    ]
    return {
        "OVERLAP-PROVIDER": union(provider, "OVERLAP-PROVIDER"),
        "OVERLAP-DAY-CAP": union(day_cap, "OVERLAP-DAY-CAP"),
    }
