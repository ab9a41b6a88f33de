"""The X12 reader: 837P claim lines and 835 payment lines from the project's own hand-written
files (tests/flows/inputs/x12/), loop and segment ids as in ASC X12N 005010X222A1 and
005010X221A1: delimiters from ISA, BOM and UTF-16, several interchanges, groups and transactions,
segments across line breaks, a 4010 header, MJ minutes, RD8 ranges, 2420A/2310B/2010AA rendering
NPIs, subscriber and patient loops, broken claims quarantined among good ones, and whole-file
problems as one line."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from flows.cli.main import main
from flows.inputs.read import read_export
from flows.inputs.redact import validate_redacted
from flows.inputs.validate import validate_inputs
from flows.inputs.x12.table import stable_id
from flows.run.remits import with_remits
from flows.schedule.drop import newest_exports
from schemas.errors import InputError
from tests.support.rows import valid_row, write_csv_text

FIXTURES = Path(__file__).parent / "x12"
PROFESSIONAL = FIXTURES / "professional.837"
ENVELOPES = FIXTURES / "envelopes.837"
PAYMENTS = FIXTURES / "payments.835"


def _lines(path: Path) -> pl.DataFrame:
    return read_export("claims", path).frame.sort("_source_row")


def _by_claim(frame: pl.DataFrame, claim: str) -> list[dict[str, object]]:
    return frame.filter(pl.col("claim_id") == claim).to_dicts()


def test_one_row_per_sv1_with_loop_values() -> None:
    frame = _lines(PROFESSIONAL)
    assert frame.height == 7
    first, minutes, third = _by_claim(frame, "CLAIM1")
    # 2420A NM1*82 on line 1, 2310B NM1*82 on the others (guide loops 2420A, 2310B)
    assert (first["rendering_npi"], minutes["rendering_npi"]) == ("2222222228", "1111111112")
    assert third["rendering_npi"] == "1111111112"
    assert first["procedure_code"] == "97110" and first["modifiers"] == "GP:KX"
    assert first["units"] == "4" and first["charge_amount"] == "100"
    assert first["service_date"] == "2026-03-02" and first["line_control"] == "CTL1"
    assert first["patient_id"] == "MBR001" and first["payer_type"] == "medicare"
    assert first["payer_id"] == "MCR01" and first["line_number"] == "1"
    assert first["line_note"] is None
    # the row number is the SV1's segment position in the file
    assert first["_source_row"] == 19


def test_minutes_become_units_and_the_original_is_noted() -> None:
    line = _by_claim(_lines(PROFESSIONAL), "CLAIM1")[1]
    # 38 minutes: two full units and 8 minutes more, a third unit (CMS Pub. 100-04 Ch. 5 §20.2)
    assert line["units"] == "3"
    assert "38 minutes billed (SV103 MJ)" in str(line["line_note"])


def test_a_date_range_takes_its_first_day_and_says_so() -> None:
    line = _by_claim(_lines(PROFESSIONAL), "CLAIM1")[1]
    assert line["service_date"] == "2026-03-02"
    assert "2026-03-02 to 2026-03-06 (DTP*472 RD8)" in str(line["line_note"])


def test_patient_loop_and_billing_npi_fallback() -> None:
    frame = _lines(PROFESSIONAL)
    (dependent,) = _by_claim(frame, "CLAIM2")
    # a dependent (2000C) without an id of its own: a digest, never the name itself
    assert dependent["patient_id"] == stable_id("MBR002", "ROE", "LILY", "20150505")
    assert "ROE" not in str(dependent["patient_id"])
    assert dependent["payer_type"] == "medicaid"
    assert dependent["rendering_npi"] == "1234567893"  # no 2420A, no 2310B: billing 2010AA
    (named,) = _by_claim(frame, "CLAIM4")
    assert named["patient_id"] == stable_id("", "POE", "MARK", "19800202")
    assert named["payer_type"] == "commercial"  # SBR09 CI


def test_a_broken_claim_is_quarantined_and_the_rest_read(tmp_path: Path) -> None:
    result = _validate(tmp_path, PROFESSIONAL)
    claims = result.results["claims"]
    assert (claims.rows_read, claims.rows_accepted, claims.rows_quarantined) == (7, 5, 2)
    problems = claims.problems.filter(pl.col("reason").str.starts_with("X12"))
    assert problems["source_row"].to_list() == [44, 47]  # both SV1 lines of CLAIM3
    reason = problems["reason"][0]
    assert "segment 45 (DTP)" in reason and "not a D8 or RD8 date" in reason
    assert "20261345" not in reason  # never the raw value
    assert set(result.claims["claim_id"]) == {"CLAIM1", "CLAIM2", "CLAIM4"}


def test_envelopes_line_breaks_and_a_4010_header(tmp_path: Path) -> None:
    frame = _lines(ENVELOPES)
    # 3 transactions in 2 groups of one interchange wrapped at 70 characters, then a 4010
    # interchange: every SV1 is a row
    assert frame["claim_id"].to_list() == ["E1", None, "E2", "E3", "E4", "H1"]
    assert frame.filter(pl.col("claim_id") == "H1")["service_date"].to_list() == ["2006-03-02"]
    result = _validate(tmp_path, ENVELOPES)
    problems = result.results["claims"].problems.filter(pl.col("reason").str.starts_with("X12"))
    reasons = dict(zip(problems["column"], problems["reason"], strict=True))
    assert "outside any claim" in reasons["claim_id"]
    assert "no procedure code (SV101-2)" in reasons["procedure_code"]
    assert sorted(result.claims["claim_id"]) == ["E1", "E2", "E4", "H1"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le-no-bom"])
def test_bom_and_utf16(tmp_path: Path, encoding: str) -> None:
    text = PROFESSIONAL.read_text(encoding="ascii")
    path = tmp_path / "claims.x12"
    if encoding == "utf-16-le-no-bom":
        path.write_bytes(text.encode("utf-16-le"))
    else:
        path.write_bytes(
            (codecs.BOM_UTF8 + text.encode()) if encoding == "utf-8-sig" else text.encode(encoding)
        )
    assert _lines(path).equals(_lines(PROFESSIONAL).with_columns(_source_file=pl.lit(path.name)))


@pytest.mark.parametrize("suffix", [".837", ".x12", ".edi", ".txt", ".dat"])
def test_every_x12_suffix_reads_by_content(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"claims{suffix}"
    path.write_bytes(b"\n  " + PROFESSIONAL.read_bytes())  # whitespace before ISA too
    assert _lines(path).height == 7


def test_payments_835() -> None:
    frame = read_export("remits", PAYMENTS).frame.sort("_source_row")
    assert frame["claim_id"].to_list() == ["CLAIM1"] * 3 + ["CLAIM2", "CLAIM4"]
    first = frame.row(0, named=True)
    assert (first["paid_amount"], first["allowed_amount"], first["line_control"]) == (
        "64",
        "80",
        "CTL1",
    )
    assert first["adjustments"] == "CO-45 20.00; PR-2 16.00" and first["co_adjustment"] == "20.00"
    assert frame.row(2, named=True)["adjustments"] == "CO-45 15.00; CO-253 5.00; PR-1 4.00"
    assert frame["service_date"].to_list() == ["2026-03-02"] * 3 + ["2026-03-03", None]
    # CLAIM4 paid as a whole (no loop 2110): one row under its CLP, claim-level CAS kept
    whole = frame.row(4, named=True)
    assert (whole["claim_id"], whole["procedure_code"], whole["paid_amount"]) == (
        "CLAIM4",
        None,
        "24",
    )
    assert whole["adjustments"] == "CO-45 6.00" and whole["_source_row"] == 30


BAD_FILES = {
    "not_x12": (b"claim_id,line_number\nC1,1\n", "does not start with an ISA segment"),
    "no_iea": (b"", "no IEA segment"),
    "short_isa": (b"ISA*00*short~GS*HC~", "not 16 fixed-width elements"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_whole_file_problems_are_one_line(tmp_path: Path, case: str) -> None:
    data, expected = BAD_FILES[case]
    if case == "no_iea":
        data = PROFESSIONAL.read_bytes().rsplit(b"IEA", 1)[0]
    path = tmp_path / "claims.txt"
    path.write_bytes(data)
    with pytest.raises(InputError) as err:
        read_export("claims", path)
    assert expected in str(err.value) and "\n" not in str(err.value)
    assert "MBR001" not in str(err.value)


def test_wrong_transaction_for_the_export(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds 835 remittances; the claims export reads 837P"):
        read_export("claims", PAYMENTS)
    with pytest.raises(InputError, match="holds 837P claims; the remits export reads 835"):
        read_export("remits", PROFESSIONAL)


def test_a_folder_mixing_x12_and_csv_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "a.837").write_bytes(PROFESSIONAL.read_bytes())
    write_csv_text(folder / "b.csv", [valid_row("claims")])
    with pytest.raises(InputError, match="mixes X12 files with CSV") as err:
        read_export("claims", folder)
    assert "\n" not in str(err.value)


def test_a_folder_of_x12_files(tmp_path: Path) -> None:
    folder = tmp_path / "claims"
    folder.mkdir()
    (folder / "a.837").write_bytes(PROFESSIONAL.read_bytes())
    (folder / "b.edi").write_bytes(ENVELOPES.read_bytes())
    raw = read_export("claims", folder)
    assert raw.frame.height == 13
    assert set(raw.frame["_source_file"]) == {"claims/a.837", "claims/b.edi"}


def _validate(tmp_path: Path, claims: Path):  # type: ignore[no-untyped-def]
    notes = write_csv_text(tmp_path / "notes.csv", [valid_row("notes")])
    plans = write_csv_text(tmp_path / "plans.csv", [valid_row("plans")])
    result = validate_inputs(claims, notes, plans, tmp_path / "out")
    summary = json.loads((tmp_path / "out" / "validation.json").read_text())
    files = summary["exports"]["claims"]["files"]
    assert {f["format"] for f in files} == {"x12"}
    return result


def test_redact_hashes_x12_patient_ids_everywhere(tmp_path: Path) -> None:
    notes = write_csv_text(tmp_path / "notes.csv", [valid_row("notes")])
    plans = write_csv_text(tmp_path / "plans.csv", [valid_row("plans")])
    out = tmp_path / "out"
    result = validate_redacted(PROFESSIONAL, notes, plans, out, b"key", remits=PAYMENTS)
    assert result.claims["patient_id"].str.starts_with("PT-").all()
    written = "".join(p.read_text(encoding="utf-8") for p in out.glob("*.csv"))
    assert "CLAIM3" in written  # the quarantined claim is there, without its patient's id
    for secret in ("MBR001", "MBR002", stable_id("MBR002", "ROE", "LILY", "20150505")):
        assert secret not in written


def test_the_835_pays_the_837p_lines(tmp_path: Path) -> None:
    notes = write_csv_text(tmp_path / "notes.csv", [valid_row("notes")])
    plans = write_csv_text(tmp_path / "plans.csv", [valid_row("plans")])
    result = validate_inputs(PROFESSIONAL, notes, plans, tmp_path / "out", remits=PAYMENTS)
    paid = with_remits(result).claims.sort("claim_id", "line_number")
    rows = {(r["claim_id"], r["line_number"]): r for r in paid.to_dicts()}
    assert (rows["CLAIM1", 1]["paid_amount"], rows["CLAIM1", 1]["allowed_amount"]) == (64, 80)
    assert rows["CLAIM1", 2]["allowed_amount"] == 50  # charge 60 less CO 10
    assert "matched by code" in rows["CLAIM1", 3]["line_note"]  # no REF*6R on either side
    assert rows["CLAIM2", 1]["paid_amount"] == 0 and "CO-50 80.00" in rows["CLAIM2", 1]["line_note"]
    assert (rows["CLAIM4", 1]["paid_amount"], rows["CLAIM4", 1]["allowed_amount"]) == (24, 24)
    assert "38 minutes billed" in rows["CLAIM1", 2]["line_note"]  # the reader's note is kept


def test_a_drop_folder_offers_its_837p_and_835(tmp_path: Path) -> None:
    (tmp_path / "claims-2026-03.837").write_bytes(PROFESSIONAL.read_bytes())
    (tmp_path / "remits-2026-03.835").write_bytes(PAYMENTS.read_bytes())
    (tmp_path / "read-me.txt").write_text("not an export")  # a .txt that is not X12: ignored
    for export in ("notes", "plans"):
        write_csv_text(tmp_path / f"{export}.csv", [valid_row(export)])
    picked = newest_exports(tmp_path)
    assert picked["claims"].name == "claims-2026-03.837"
    assert picked["remits"].name == "remits-2026-03.835"


def test_validation_json_counts_x12_reasons_by_kind(tmp_path: Path) -> None:
    _validate(tmp_path, ENVELOPES)
    summary = json.loads((tmp_path / "out" / "validation.json").read_text())
    reasons = summary["exports"]["claims"]["problems_by_reason"]
    assert (
        "X12 claim not read: segment N (SV1) is a service line outside any claim (CLM)" in reasons
    )
    assert not [r for r in reasons if "segment 2" in r]  # positions are in quarantine.csv only


@settings(max_examples=25, deadline=None)
@example(delimiters=["*", ":", "~", "^"], width=104)  # a line break before ISA16
@example(delimiters=["*", ":", "~", "^"], width=105)  # ... and between ISA16 and the terminator
@given(
    delimiters=st.permutations(["*", "|", "!", ":", "~"]).map(lambda p: [*p[:3], p[4]]),
    width=st.integers(min_value=0, max_value=120),
)
def test_any_delimiters_and_line_wrapping_read_the_same(
    tmp_path_factory: pytest.TempPathFactory, delimiters: list[str], width: int
) -> None:
    # the ISA says which characters separate elements, components and segments; line breaks
    # anywhere between or inside segments change nothing (ASC X12.5 interchange control)
    element, component, terminator, _ = delimiters
    text = PROFESSIONAL.read_text(encoding="ascii").replace("\n", "")
    table = str.maketrans({"*": element, ":": component, "~": terminator})
    text = text.translate(table)
    if width:
        text = "\r\n".join(text[i : i + width] for i in range(0, len(text), width))
    path = tmp_path_factory.mktemp("x12") / "claims.edi"
    path.write_text(text, encoding="ascii")
    assert _lines(path).equals(_lines(PROFESSIONAL).with_columns(_source_file=pl.lit(path.name)))


def test_a_mapping_sets_constants_and_filters_on_x12_rows_and_ignores_renames(
    tmp_path: Path,
) -> None:
    # a Medicare-only file whose SBR09 says otherwise: the mapping's constant wins; renames and
    # date formats written for a table export do not apply to X12 rows (contract names, D8 dates)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[claims.columns]\nclaim_id = "CLAIM NO"\n'
        '[claims.formats]\nservice_date = "%d-%b-%Y"\n'
        '[claims.constants]\npayer_type = "medicare"\n'
        '[[claims.filter]]\ncolumn = "procedure_code"\nop = "!="\nvalue = "90853"\n',
        encoding="utf-8",
    )
    notes = write_csv_text(tmp_path / "notes.csv", [valid_row("notes")])
    plans = write_csv_text(tmp_path / "plans.csv", [valid_row("plans")])
    result = validate_inputs(PROFESSIONAL, notes, plans, tmp_path / "out", mapping=mapping)
    claims = result.results["claims"]
    assert set(result.claims["payer_type"]) == {"medicare"}
    assert "CLAIM4" not in set(result.claims["claim_id"])  # its one line is 90853: filtered
    assert (claims.rows_accepted, claims.rows_quarantined) == (4, 2)
    summary = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert summary["exports"]["claims"]["rows_filtered"] == 1


def test_a_claims_only_run_of_an_837p(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    argv = ["run", "--claims", str(PROFESSIONAL), "--remits", str(PAYMENTS), "--out", str(out)]
    assert main([*argv, "--no-history", "--no-expectations"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["inputs"]["claims"] == {
        "rows_read": 7,
        "rows_accepted": 5,
        "rows_quarantined": 2,
    }
    assert summary["inputs"]["remits"]["rows_accepted"] == 5
    assert "MBR001" not in capsys.readouterr().out


def test_the_x12_only_columns_are_kept_only_when_a_line_fills_them(tmp_path: Path) -> None:
    """Claims from a table never fill line_control or line_note: the runners' single-chunk
    frames leave them out (a blank text column still costs 16 bytes a row), while an 837P's
    line control numbers stay for the remittance join."""
    table = tmp_path / "claims.csv"
    write_csv_text(table, [valid_row("claims")])
    from_table = validate_inputs(table, None, None, tmp_path / "t").rechunked()
    assert {"line_control", "line_note"}.isdisjoint(from_table.claims.columns)
    from_x12 = _validate(tmp_path, PROFESSIONAL).rechunked()
    assert from_x12.claims["line_control"].drop_nulls().len() > 0
