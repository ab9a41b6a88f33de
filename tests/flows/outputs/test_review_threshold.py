"""report.html lists the beneficiaries whose allowed therapy spending in the export passes the
targeted medical-review threshold ($3,000 a year; CMS Pub. 100-04 Ch. 5 §10.3, Bipartisan
Budget Act of 2018 §50202), with the caveat that only the export's spending is visible, and
patient ids hashed under --redact like everywhere else."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from flows.inputs.redact import pseudonym
from flows.outputs.review import past_review
from flows.run.context import load_context
from flows.run.direct import run_audit
from reports.render import render_report
from tests.support import report_fixture as fx
from tests.support.paths import SAMPLE_INPUTS, SAMPLE_PROVIDERS


def line(
    patient: str, payer: str, code: str, modifier: str | None, allowed: float
) -> dict[str, object]:
    return {
        "claim_id": f"C-{patient}-{code}-{allowed}",
        "line_number": 1,
        "patient_id": patient,
        "payer_type": payer,
        "service_date": dt.date(2026, 3, 2),
        "procedure_code": code,
        "modifiers": modifier,
        "units": 1,
        "paid_amount": None,
        "allowed_amount": allowed,
    }


def claims() -> pl.DataFrame:
    rows = [
        # Medicare PT and SLP count together: 1,600 + 1,500 passes $3,000
        line("PA", "medicare", "97110", "GP", 1600.0),
        line("PA", "medicare", "92507", "GN", 1500.0),
        # OT apart: 1,200 does not
        line("PA", "medicare", "97535", "GO", 1200.0),
        # exactly the threshold is not past it
        line("PB", "medicare", "97110", "GP", 3000.0),
        # commercial spending never counts toward Medicare's threshold
        line("PC", "commercial", "97110", "GP", 5000.0),
        # OT alone past it
        line("PD", "medicare", "97530", "GO", 3200.5),
    ]
    return pl.DataFrame(rows, schema_overrides={"paid_amount": pl.Float64})


def test_past_review_lists_each_group_past_the_threshold() -> None:
    past = past_review(claims(), load_context(None))
    assert past is not None
    assert past.select("patient_id", "group", "allowed").rows() == [
        ("PD", "OT", 3200.5),
        ("PA", "PT+SLP", 3100.0),
    ]
    assert set(past["review_threshold"]) == {3000.0}


def test_past_review_without_modifiers_column_uses_the_codes_discipline() -> None:
    # without GP/GO/GN only a code with a discipline of its own (an evaluation) counts
    rows = claims().vstack(pl.DataFrame([line("PE", "medicare", "97163", None, 3100.0)]))
    past = past_review(rows.drop("modifiers"), load_context(None))
    assert past is not None
    assert past.select("patient_id", "group").rows() == [("PE", "PT+SLP")]


def test_report_section_lists_them_with_the_caveat() -> None:
    past = past_review(claims(), load_context(None))
    html = render_report(fx.view(past_review=past))
    section = html[html.index('id="review-threshold"') :]
    section = section[: section.index("</section>")]
    assert "Only the spending in this export is visible" in section
    assert "$3,000.00" in section and "not a finding" in section
    rows = re.findall(r'<tr><td class="mono">([^<]+)</td><td>(\d+)</td><td>([^<]+)</td>', section)
    assert rows == [("PD", "2026", "OT"), ("PA", "2026", "PT and SLP")]
    assert '<td class="num" data-value="3100.0">$3,100.00</td>' in section


def test_report_says_so_when_nobody_is_past_it() -> None:
    past = past_review(claims().filter(pl.col("patient_id") == "PB"), load_context(None))
    html = render_report(fx.view(past_review=past))
    assert "No beneficiary" in html and 'id="review-table"' not in html


def test_no_list_without_a_thresholds_table() -> None:
    assert 'id="review-threshold"' not in render_report(fx.view())


@pytest.fixture
def big_spender(tmp_path: Path) -> tuple[Path, str]:
    """The sample with one Medicare patient's PT lines allowed $1,000 each (past $3,000)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for path in (*SAMPLE_INPUTS, SAMPLE_PROVIDERS):
        shutil.copy(path, folder / Path(path).name)
    sample = pl.read_csv(folder / "claims.csv", infer_schema=False)
    pt = sample.filter(
        (pl.col("payer_type") == "medicare") & pl.col("modifiers").str.contains("GP")
    )
    patient = pt.group_by("patient_id").len().sort("len", "patient_id").item(-1, "patient_id")
    raised = (pl.col("patient_id") == patient) & pl.col("modifiers").str.contains("GP")
    sample = sample.with_columns(
        pl.when(raised).then(pl.lit("1000.00")).otherwise(pl.col("allowed_amount"))
        .alias("allowed_amount")
    )  # fmt: skip
    sample.write_csv(folder / "claims.csv")
    return folder, patient


def test_redacted_report_lists_the_hashed_patient_only(
    big_spender: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, patient = big_spender
    monkeypatch.setenv("THERAPY_AUDIT_REDACT_KEY", "test-key")
    out = run_audit(
        folder / "claims.csv",
        folder / "notes.csv",
        folder / "plans.csv",
        tmp_path / "out",
        providers=folder / "providers.csv",
        redact=True,
        history=None,
        expectations=False,
    )
    assert out.report_html is not None
    html = out.report_html.read_text(encoding="utf-8")
    section = html[html.index('id="review-table"') :]
    assert f'<td class="mono">{pseudonym(patient, b"test-key")}</td>' in section
    assert patient not in html
