"""837P professional claims (ASC X12N 005010X222A1; 004010X098A1 read alike) as claim lines.

One row per service line (loop 2400, SV1 segment), under the contract's claims column names,
numbered by the SV1's segment position in the file. Loop and segment ids are those of the
implementation guide:

- claim_id: CLM01 (loop 2300); line_number: LX01 (loop 2400)
- patient_id: the patient loop 2010CA (NM1*QC) when the hierarchy has a patient level (HL03
  = 23), else the subscriber loop 2010BA (NM1*IL): its member id NM109, else a digest of name
  and birth date (DMG02) from table.stable_id
- rendering_npi: NM1*82 of loop 2420A (line), else of 2310B (claim), else the billing provider
  NM1*85 of 2010AA; only NM108 = XX (NPI) identifiers
- payer_type: SBR09 of loop 2000B (MB/MA Medicare, MC Medicaid, any other code commercial);
  payer_id: NM109 of the payer loop 2010BB (NM1*PR)
- service_date: DTP*472 of loop 2400 (else of 2300): D8, or RD8 whose first day is used and noted
- procedure_code, modifiers: SV101 composite; charge_amount: SV102; units: SV104 with the basis
  SV103 (UN units; MJ minutes, converted at 15 minutes per unit: the unit of every timed
  therapy code, with the 8-minute rounding of CMS Pub. 100-04 Ch. 5 §20.2)
- line_control: REF*6R of loop 2400 (what an 835 returns to match the line)
- line_note: how the line was read when it was not one-to-one (minutes, a date range)

A structural problem in a claim (an SV1 outside a claim, a missing required element, a bad
date) quarantines every line of that claim with the segment position and a plain reason; the
other claims are read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flows.inputs.x12.segments import Delimiters, Segment
from flows.inputs.x12.table import Rows, amount, at, procedure, stable_id, whole, x12_date

COLUMNS = (
    "claim_id",
    "line_number",
    "patient_id",
    "rendering_npi",
    "payer_type",
    "payer_id",
    "service_date",
    "procedure_code",
    "modifiers",
    "units",
    "charge_amount",
    "line_control",
    "line_note",
)
# Claim filing indicator code (SBR09) -> the contract's payer type.
PAYER_TYPES = {"MB": "medicare", "MA": "medicare", "MC": "medicaid"}
UNIT_MINUTES = 15
# A timed unit counts from its eighth minute (CMS Pub. 100-04 Ch. 5 §20.2).
MIDPOINT = 8


@dataclass
class _Line:
    position: int
    values: dict[str, str | None]
    notes: list[str] = field(default_factory=list)
    rendering: str | None = None


@dataclass
class _Claim:
    claim_id: str | None
    patient_id: str | None
    payer_type: str | None
    payer_id: str | None
    billing_npi: str | None
    rendering: str | None = None
    service_date: str | None = None
    date_note: str | None = None
    lines: list[_Line] = field(default_factory=list)
    problem: tuple[str, str] | None = None

    def fail(self, column: str, reason: str) -> None:
        if self.problem is None:  # the first problem explains the claim
            self.problem = (column, reason)


@dataclass
class _State:
    billing_npi: str | None = None
    payer_type: str | None = None
    payer_id: str | None = None
    subscriber: tuple[str, str, str] = ("", "", "")  # member id, last name, first name
    subscriber_dob: str = ""
    patient: tuple[str, str, str] | None = None
    patient_dob: str = ""
    person: str = ""  # whose DMG comes next: "IL" or "QC"

    def patient_id(self) -> str | None:
        member, last, first = self.subscriber
        if self.patient is not None:
            own, p_last, p_first = self.patient
            if own:
                return own
            if not (p_last or p_first or self.patient_dob):
                return None
            return stable_id(member, p_last, p_first, self.patient_dob)
        if member:
            return member
        if not (last or first or self.subscriber_dob):
            return None
        return stable_id("", last, first, self.subscriber_dob)


def read_claims(found: Iterable[Segment], delims: Delimiters) -> Rows:
    rows = Rows(COLUMNS)
    state = _State()
    claim: _Claim | None = None
    line: _Line | None = None
    orphan: _Claim | None = None  # service lines seen outside any claim
    for seg in found:
        sid = seg.id
        if sid == "SV1":
            owner = claim
            if owner is None:
                orphan = orphan or _Claim(None, None, None, None, None)
                orphan.fail("claim_id", f"{at(seg)} is a service line outside any claim (CLM)")
                owner = orphan
            line = _service_line(seg, delims, owner, line)
            owner.lines.append(line)
        elif sid == "LX":
            line = _Line(0, {"line_number": seg.get(1) or None})
            if claim is not None and not seg.get(1):
                claim.fail("line_number", f"{at(seg)} has no line number (LX01)")
        elif sid == "DTP" and seg.get(1) == "472":
            _service_date(seg, claim, line if line is not None and line.position else None)
        elif sid == "REF" and seg.get(1) == "6R" and line is not None and line.position:
            line.values["line_control"] = seg.get(2) or None
        elif sid == "NM1":
            _name(seg, state, claim, line)
        elif sid == "CLM":
            _flush(claim, rows)
            claim, line = (
                _Claim(
                    seg.get(1) or None,
                    state.patient_id(),
                    state.payer_type,
                    state.payer_id,
                    state.billing_npi,
                ),
                None,
            )
            if not seg.get(1):
                claim.fail("claim_id", f"{at(seg)} has no claim id (CLM01)")
        elif sid in ("HL", "SE", "GE", "IEA", "ST"):
            _flush(claim, rows)
            claim, line = None, None
            if sid == "HL":
                _hierarchy(seg, state)
        elif sid == "SBR" and claim is None:
            code = seg.get(9)
            state.payer_type = PAYER_TYPES.get(code, "commercial") if code else None
        elif sid == "DMG" and claim is None:
            if state.person == "QC":
                state.patient_dob = seg.get(2)
            elif state.person == "IL":
                state.subscriber_dob = seg.get(2)
    _flush(claim, rows)
    _flush(orphan, rows)
    return rows


def _hierarchy(seg: Segment, state: _State) -> None:
    level = seg.get(3)
    if level == "20":
        state.billing_npi = None
    if level in ("20", "22"):
        state.subscriber, state.subscriber_dob = ("", "", ""), ""
        state.payer_type, state.payer_id = None, None
    state.patient, state.patient_dob, state.person = None, "", ""
    if level == "23":
        state.patient = ("", "", "")


def _name(seg: Segment, state: _State, claim: _Claim | None, line: _Line | None) -> None:
    entity, npi = seg.get(1), seg.get(9) if seg.get(8) == "XX" else ""
    if entity == "82" and claim is not None:
        if line is not None and line.position:
            line.rendering = npi or line.rendering
        else:
            claim.rendering = npi or claim.rendering
    if claim is not None:
        return  # other names inside a claim (2310, 2330, 2420) do not change who is billed
    if entity == "85":
        state.billing_npi = npi or None
    elif entity == "IL":
        state.subscriber = (seg.get(9), seg.get(3), seg.get(4))
        state.person = "IL"
    elif entity == "QC":
        state.patient = (seg.get(9), seg.get(3), seg.get(4))
        state.person = "QC"
    elif entity == "PR":
        state.payer_id = seg.get(9) or None


def _service_line(seg: Segment, delims: Delimiters, claim: _Claim, line: _Line | None) -> _Line:
    number = None if line is None or line.position else line.values.get("line_number")
    new = _Line(seg.position, {"line_number": number})
    if number is None:
        claim.fail("line_number", f"{at(seg)} has no LX line number before it")
    proc = procedure(seg.get(1), delims.component)
    if not proc.code:
        claim.fail("procedure_code", f"{at(seg)} has no procedure code (SV101-2)")
    new.values["procedure_code"] = proc.code or None
    new.values["modifiers"] = proc.modifiers
    charge = amount(seg.get(2))
    if charge is None:
        claim.fail("charge_amount", f"{at(seg)} has no charge amount (SV102) or not a number")
    new.values["charge_amount"] = charge
    basis, quantity = seg.get(3), whole(seg.get(4)) if seg.get(4) else None
    if quantity is None:
        claim.fail("units", f"{at(seg)} has no whole-number quantity (SV104)")
    elif basis == "MJ":
        units = (quantity + UNIT_MINUTES - MIDPOINT) // UNIT_MINUTES
        new.values["units"] = str(units)
        new.notes.append(
            f"units: {quantity} minutes billed (SV103 MJ) read as {units} unit(s) of "
            f"{UNIT_MINUTES} minutes"
        )
    elif basis == "UN":
        new.values["units"] = str(quantity)
    else:
        claim.fail("units", f"{at(seg)}: unit basis (SV103) is neither UN (units) nor MJ (minutes)")
    return new


def _service_date(seg: Segment, claim: _Claim | None, line: _Line | None) -> None:
    if claim is None:
        return
    qualifier, value = seg.get(2), seg.get(3)
    start, end = [*value.split("-", 1), ""][:2] if qualifier == "RD8" else (value, "")
    day = x12_date(start)
    last = x12_date(end) if qualifier == "RD8" else None
    if day is None or qualifier not in ("D8", "RD8") or (qualifier == "RD8" and last is None):
        claim.fail("service_date", f"{at(seg)}: the service date (DTP*472) is not a D8 or RD8 date")
        return
    note = None
    if qualifier == "RD8" and last != day:
        note = f"service date: a range {day} to {last} (DTP*472 RD8), its first day used"
    if line is not None:
        line.values["service_date"] = day
        if note:
            line.notes.append(note)
    else:
        claim.service_date, claim.date_note = day, note


def _flush(claim: _Claim | None, rows: Rows) -> None:
    if claim is None:
        return
    for line in claim.lines:
        values = line.values
        if values.get("service_date") is None and claim.service_date is not None:
            values["service_date"] = claim.service_date
            if claim.date_note:
                line.notes.append(claim.date_note)
        if values.get("service_date") is None:
            where = f"segment {line.position} (SV1)"
            claim.fail("service_date", f"{where} has no service date (DTP*472)")
        values |= {
            "claim_id": claim.claim_id,
            "patient_id": claim.patient_id,
            "rendering_npi": line.rendering or claim.rendering or claim.billing_npi,
            "payer_type": claim.payer_type,
            "payer_id": claim.payer_id,
            "line_note": "; ".join(line.notes) or None,
        }
        rows.add(line.position, values)
    if claim.problem is not None:
        column, reason = claim.problem
        for line in claim.lines:
            rows.problem(line.position, column, f"X12 claim not read: {reason}")
