"""Evidence packets: the I/O side of reports/packet_view.py, for `run --packets` and
`therapy-audit packet`.

The claims of a packet are matched to their notes by the engine's own matching
(checks.engine.match, checks.matching.line_notes) over the claims, notes and plans of the
packet's patients only: the match pairs a line with notes of the same patient, so the answer is
the audit's, at a fraction of the work. `run --packets` writes one packet per claim with
findings, the `packet_limit` claims with the most money at risk first (at 1.5 million findings
a page per claim would be hundreds of thousands of files), and packets/index.html listing them;
the report links each of those claim ids to its packet.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from checks.base import LINE_ID
from checks.engine import match
from checks.matching import line_notes
from checks.registry import all_rules
from flows.outputs.files import PACKETS_DIR
from flows.run.context import RunContext
from reports.catalogue import catalogue
from reports.formatting import fmt_int, fmt_money
from reports.packet_view import build_packet, line_amounts, packet_index, packet_name, top_claims
from reports.render import render_packet, render_packet_index
from reports.view_model import RunInfo

if TYPE_CHECKING:
    from flows.outputs.audited import Audited

PACKETS_INDEX = f"{PACKETS_DIR}/index.html"
DEFAULT_PACKET_LIMIT = 200


@dataclass(frozen=True)
class PacketFrames:
    """The matched lines of the packets' claims, their note rows and their patients' plans."""

    lines: pl.DataFrame
    notes: pl.DataFrame
    plans: pl.DataFrame


def packet_frames(
    claims: pl.DataFrame,
    notes: pl.DataFrame,
    plans: pl.DataFrame,
    context: RunContext,
    claim_ids: Sequence[str],
) -> PacketFrames:
    """Lines of `claim_ids` matched to their notes as the audit matched them."""
    wanted = pl.col("claim_id").is_in(list(claim_ids))
    patients = claims.filter(wanted).get_column("patient_id").cast(pl.String).unique()
    mine = pl.col("patient_id").cast(pl.String).is_in(patients.to_list())
    own_notes = notes.filter(mine)
    matched = match(
        claims.filter(mine).lazy(),
        own_notes.lazy(),
        plans.filter(mine).lazy(),
        profiles=context.profiles,
        override=context.override,
    )
    lines = matched.lines.filter(wanted).with_columns(pl.col("patient_id").cast(pl.String))
    return PacketFrames(lines, line_notes(lines, own_notes), plans.filter(mine))


def packet_page(
    kind: str,
    ident: str,
    frames: PacketFrames,
    findings: pl.DataFrame,
    context: RunContext,
    run: RunInfo,
    names: dict[str, str] | None,
    *,
    claim_ids: Sequence[str] | None = None,
    note: str = "",
) -> tuple[str, str]:
    """(file name, page) of one packet over `claim_ids` (default: every claim of `frames`)."""
    lines = frames.lines
    if claim_ids is not None:
        lines = lines.filter(pl.col("claim_id").is_in(list(claim_ids)))
    patients = lines.get_column("patient_id").unique().to_list()
    view = build_packet(
        kind,
        ident,
        lines,
        frames.notes.filter(pl.col(LINE_ID).is_in(lines.get_column(LINE_ID).implode())),
        frames.plans.filter(pl.col("patient_id").cast(pl.String).is_in(patients)),
        findings.filter(pl.col("claim_id").is_in(lines.get_column("claim_id").unique().implode())),
        catalogue(all_rules(), context.in_use),
        run,
        names=names,
        note=note,
    )
    return view["file"], render_packet(view)


def write_atomic(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def packet_claims(audited: Audited) -> list[str]:
    """The claims `run --packets` writes a packet for (the report links exactly these)."""
    limit = audited.settings.packets
    return top_claims(audited.result.findings, limit) if limit else []


def wanted(audited: Audited) -> bool:
    return audited.settings.report and audited.settings.packets > 0


def write_packets(audited: Audited, index: Path) -> None:
    """One packet per claim of packet_claims into the folder of `index`, then the index."""
    from flows.outputs.report import provider_names  # the report's own lookup of names

    s, validation, findings = audited.settings, audited.validation, audited.result.findings
    folder = index.parent
    folder.mkdir(parents=True, exist_ok=True)
    ids = packet_claims(audited)
    frames = packet_frames(validation.claims, validation.notes, validation.plans, s.context, ids)
    names = provider_names(validation)
    with_findings = findings.get_column("claim_id").n_unique() if findings.height else 0
    # the packets' findings once, not the run's (up to millions) once per packet
    findings = findings.filter(pl.col("claim_id").is_in(ids))
    amounts = line_amounts(findings)
    per_claim = {
        claim: (n, amount)
        for claim, n, amount in amounts.group_by("claim_id")
        .agg(pl.col("findings").sum(), pl.col("at_risk").sum())
        .iter_rows()
    }
    entries: list[dict[str, Any]] = []
    for claim_id in ids:
        name, page = packet_page(
            "claim", claim_id, frames, findings, s.context, audited.run_info, names,
            claim_ids=[claim_id],
        )  # fmt: skip
        write_atomic(folder / name, page)
        n, amount = per_claim.get(claim_id, (0, 0.0))
        entries.append(
            {
                "claim_id": claim_id,
                "file": name,
                "findings": fmt_int(n),
                "amount": fmt_money(amount),
            }
        )
    view = packet_index(
        entries, audited.run_info, limit=s.packets, claims_with_findings=with_findings
    )
    index.write_text(render_packet_index(view), encoding="utf-8")


def packet_links(claim_ids: Sequence[str]) -> dict[str, str]:
    """claim id -> its packet's path relative to report.html."""
    return {c: f"{PACKETS_DIR}/{packet_name('claim', c)}" for c in claim_ids}
