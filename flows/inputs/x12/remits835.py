"""835 health care claim payment/advice (ASC X12N 005010X221A1) as remittance lines.

One row per service payment (loop 2110, SVC segment), numbered by the SVC's segment position:

- claim_id: CLP01 (loop 2100), the claim id the provider submitted (the 837's CLM01)
- procedure_code, modifiers: SVC06 when the payer changed the code (what was billed), else SVC01
- charge_amount: SVC02; paid_amount: SVC03; units: SVC07 when given (billed), else SVC05, else 1
- service_date: DTM*472 (or DTM*150, the period's start) of loop 2110, else the claim's DTM*232
- line_control: REF*6R of loop 2110 (the 837's line item control number)
- allowed_amount: AMT*B6 of loop 2110 when present (the join computes it otherwise)
- co_adjustment: the CAS amounts of group CO (contractual obligation) on the line
- adjustments: every CAS group-reason-amount of the line, as evidence ("CO-45 20.00; PR-2 5.00")
- claim_status: CLP02 (1 processed as primary, 4 denied, 22 reversal ...)

A claim payment without service lines (the payer paid the claim as a whole) is one row numbered
by its CLP: CLP03 charge, CLP04 paid, its claim-level CAS as adjustments, no code or control
number; the join shares it among the claim's lines by charge. An SVC outside a claim payment
(CLP), or one without a code or paid amount, quarantines that claim payment's lines with the
segment position and a plain reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flows.inputs.x12.segments import Delimiters, Segment
from flows.inputs.x12.table import Rows, amount, at, procedure, x12_date

COLUMNS = (
    "claim_id",
    "line_control",
    "procedure_code",
    "modifiers",
    "service_date",
    "units",
    "charge_amount",
    "paid_amount",
    "allowed_amount",
    "co_adjustment",
    "adjustments",
    "claim_status",
)
# CAS: a group code, then up to six (reason, amount, quantity) triples (835 guide, loop 2110).
_CAS_TRIPLES = 6


@dataclass
class _Line:
    position: int
    values: dict[str, str | None]
    co: float = 0.0
    adjustments: list[str] = field(default_factory=list)


@dataclass
class _Payment:
    claim_id: str | None
    status: str | None
    date: str | None = None
    position: int = 0
    charge: str | None = None
    paid: str | None = None
    # claim-level CAS (before any SVC), kept for a payment without service lines
    level: _Line = field(default_factory=lambda: _Line(0, {}))
    lines: list[_Line] = field(default_factory=list)
    problem: tuple[str, str] | None = None

    def fail(self, column: str, reason: str) -> None:
        if self.problem is None:
            self.problem = (column, reason)


def read_remits(found: Iterable[Segment], delims: Delimiters) -> Rows:
    rows = Rows(COLUMNS)
    payment: _Payment | None = None
    orphan: _Payment | None = None
    line: _Line | None = None
    for seg in found:
        sid = seg.id
        if sid == "SVC":
            owner = payment
            if owner is None:
                orphan = orphan or _Payment(None, None)
                orphan.fail("claim_id", f"{at(seg)} is a service payment outside any CLP")
                owner = orphan
            line = _service(seg, delims, owner)
            owner.lines.append(line)
        elif sid == "CAS" and payment is not None:
            _adjust(seg, line if line is not None else payment.level)
        elif sid == "DTM" and payment is not None:
            day = x12_date(seg.get(2))
            if line is not None and seg.get(1) in ("472", "150"):
                line.values["service_date"] = day
            elif line is None and seg.get(1) == "232":
                payment.date = day
        elif sid == "REF" and seg.get(1) == "6R" and line is not None:
            line.values["line_control"] = seg.get(2) or None
        elif sid == "AMT" and seg.get(1) == "B6" and line is not None:
            line.values["allowed_amount"] = amount(seg.get(2))
        elif sid == "CLP":
            _flush(payment, rows)
            payment, line = _Payment(seg.get(1) or None, seg.get(2) or None), None
            payment.position, payment.charge, payment.paid = (
                seg.position,
                amount(seg.get(3)),
                amount(seg.get(4)),
            )
            if not seg.get(1):
                payment.fail("claim_id", f"{at(seg)} has no claim id (CLP01)")
        elif sid in ("LX", "SE", "GE", "IEA", "ST", "PLB"):
            _flush(payment, rows)
            payment, line = None, None
    _flush(payment, rows)
    _flush(orphan, rows)
    return rows


def _service(seg: Segment, delims: Delimiters, payment: _Payment) -> _Line:
    billed = procedure(seg.get(6), delims.component) if seg.get(6) else None
    proc = billed or procedure(seg.get(1), delims.component)
    if not proc.code:
        payment.fail("procedure_code", f"{at(seg)} has no procedure code (SVC01-2)")
    paid = amount(seg.get(3))
    if paid is None:
        payment.fail("paid_amount", f"{at(seg)} has no paid amount (SVC03) or not a number")
    units = seg.get(7) or seg.get(5) or "1"
    return _Line(
        seg.position,
        {
            "procedure_code": proc.code or None,
            "modifiers": proc.modifiers,
            "charge_amount": amount(seg.get(2)),
            "paid_amount": paid,
            "units": units,
        },
    )


def _adjust(seg: Segment, line: _Line) -> None:
    group = seg.get(1)
    for i in range(_CAS_TRIPLES):
        reason, value = seg.get(2 + 3 * i), amount(seg.get(3 + 3 * i))
        if not reason or value is None:
            continue
        line.adjustments.append(f"{group}-{reason} {float(value):.2f}")
        if group == "CO":
            line.co += float(value)


def _flush(payment: _Payment | None, rows: Rows) -> None:
    if payment is None:
        return
    if not payment.lines and payment.claim_id is not None:
        # paid at claim level only (no loop 2110): one row under the CLP, no code or control
        level = payment.level
        level.position = payment.position
        level.values = {"charge_amount": payment.charge, "paid_amount": payment.paid}
        payment.lines.append(level)
    for line in payment.lines:
        values = line.values
        if values.get("service_date") is None:
            values["service_date"] = payment.date
        values |= {
            "claim_id": payment.claim_id,
            "claim_status": payment.status,
            "co_adjustment": f"{line.co:.2f}",
            "adjustments": "; ".join(line.adjustments) or None,
        }
        rows.add(line.position, values)
    if payment.problem is not None:
        column, reason = payment.problem
        for line in payment.lines:
            rows.problem(line.position, column, f"X12 remittance not read: {reason}")
