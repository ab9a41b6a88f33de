"""Evidence packets: `run --packets` writes one page per claim with findings (the most money at
risk first, at most --packet-limit) and the report links them; `therapy-audit packet` writes the
same page from the audit folder; the notes shown are the engine's match; no note text, no raw
patient id under --redact; every problem is one line and exit 2."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import polars as pl
import pytest

from checks.engine import match
from flows.cli.main import main
from flows.inputs.validate import ValidationSummary
from flows.outputs.packets import packet_frames
from flows.run.context import load_context
from reports.packet_view import packet_name, top_claims
from schemas.findings import FINDINGS_SCHEMA
from tests.support.paths import SAMPLE_ARGS, SAMPLE_INPUTS
from tests.support.report_fixture import finding

LIMIT = 12


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> Path:
    inputs = tmp_path_factory.mktemp("inputs")
    args = []
    for arg in SAMPLE_ARGS:  # copies: a test changes one to see the packet refuse it
        option, path = arg.split("=", 1)
        copy = inputs / Path(path).name
        shutil.copy(path, copy)
        args.append(f"{option}={copy}")
    out = tmp_path_factory.mktemp("audit") / "out"
    code = main(
        ["run", *args, "--out", str(out), "--no-history", "--no-expectations", "--packets",
         "--packet-limit", str(LIMIT)]
    )  # fmt: skip
    assert code == 0
    return out


def _embedded(report: Path) -> dict:
    html = report.read_text(encoding="utf-8")
    text = html.split('<script type="application/json" id="findings-data">', 1)[1]
    return json.loads(text.split("</script>", 1)[0])


def test_run_writes_packets_for_the_claims_with_most_at_risk(audit: Path) -> None:
    findings = pl.read_parquet(audit / "findings.parquet")
    expected = top_claims(findings, LIMIT)
    assert len(expected) == LIMIT < findings["claim_id"].n_unique()
    written = sorted(p.name for p in (audit / "packets").glob("claim-*.html"))
    assert written == sorted(packet_name("claim", c) for c in expected)
    index = (audit / "packets" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{packet_name("claim", c)}"' in index for c in expected)
    assert "--packet-limit 12" in index and 'href="../report.html"' in index
    links = _embedded(audit / "report.html")["packets"]
    shown = set(_embedded(audit / "report.html")["rows"][0][2:3])
    assert set(links) <= set(expected) and shown
    assert all((audit / href).is_file() for href in links.values())


def test_top_claims_sum_each_line_once_at_its_largest_finding() -> None:
    rows = [
        finding("UNITS-8MIN", "error", "A", 1, "N", 1, 50.0),
        finding("DOC-NO-NOTE", "error", "A", 1, "N", 1, 60.0),  # same line: counts 60, not 110
        finding("UNITS-8MIN", "error", "B", 1, "N", 1, 70.0),
        finding("UNITS-8MIN", "error", "C", 1, "N", 1, 70.0),
    ]
    findings = pl.DataFrame(rows, schema=FINDINGS_SCHEMA)
    assert top_claims(findings, 2) == ["B", "C"]
    assert top_claims(findings, 9) == ["B", "C", "A"]
    assert top_claims(findings.clear(), 5) == []


def test_packet_names_are_safe_and_distinct() -> None:
    names = {packet_name("claim", c) for c in ("A/1", "A_1", "../../etc", "", "A 1")}
    assert len(names) == 5
    assert all(re.fullmatch(r"claim-[A-Za-z0-9_-]+-[0-9a-f]{8}\.html", n) for n in names)
    assert re.fullmatch(r"patient-[0-9a-f]{8}\.html", packet_name("patient", "P123"))


def test_packet_notes_are_the_engines_match(validated_sample: ValidationSummary) -> None:
    v = validated_sample
    context = load_context(None)
    claims = v.claims["claim_id"].unique().sort().head(40).to_list()
    frames = packet_frames(v.claims, v.notes, v.plans, context, claims)
    full = match(v.claims.lazy(), v.notes.lazy(), v.plans.lazy(), profiles=context.profiles)
    audit_ids = dict(
        full.lines.filter(pl.col("claim_id").is_in(claims))
        .select(pl.concat_str("claim_id", pl.lit(":"), "line_number"), "note_ids")
        .iter_rows()
    )
    shown = frames.notes.join(frames.lines.select("line_id", "claim_id", "line_number"),
                              on="line_id")  # fmt: skip
    by_line = (
        shown.group_by("claim_id", "line_number")
        .agg(pl.col("note_id").unique().sort().str.join(";"))
        .select(pl.concat_str("claim_id", pl.lit(":"), "line_number"), "note_id")
    )
    assert dict(by_line.iter_rows()) == {k: v for k, v in audit_ids.items() if v is not None}
    assert frames.lines.height == v.claims.filter(pl.col("claim_id").is_in(claims)).height


def test_packet_command_writes_the_runs_page(audit: Path, tmp_path: Path, capsys) -> None:
    claim = top_claims(pl.read_parquet(audit / "findings.parquet"), 1)[0]
    assert main(["packet", "--audit", str(audit), "--claim", claim, "--out", str(tmp_path)]) == 0
    page = tmp_path / packet_name("claim", claim)
    assert page.read_bytes() == (audit / "packets" / page.name).read_bytes()
    html = page.read_text(encoding="utf-8")
    assert "script-src 'none'" in html and "<script" not in html
    assert f'data-claim="{claim}"' in html and "The rules behind these findings" in html
    notes = pl.read_csv(SAMPLE_INPUTS[1], infer_schema_length=0)
    texts = notes["note_text"].drop_nulls().unique().to_list()
    assert not any(t in html for t in texts)  # note text is never in a packet
    assert f"claim {claim}" in capsys.readouterr().out


def test_patient_and_provider_packets_cover_their_claims_with_findings(
    audit: Path, tmp_path: Path, capsys
) -> None:
    findings = pl.read_parquet(audit / "findings.parquet")
    patient = findings["patient_id"][0]
    npi = findings["provider_npi"][0]
    assert (
        main(["packet", "--audit", str(audit), "--patient", patient, "--out", str(tmp_path)]) == 0
    )
    out = capsys.readouterr().out
    assert patient not in out  # the console never shows a patient id
    html = (tmp_path / packet_name("patient", patient)).read_text(encoding="utf-8")
    mine = findings.filter(pl.col("patient_id") == patient)["claim_id"].unique().to_list()
    assert sorted(re.findall(r'data-claim="([^"]+)"', html)) == sorted(mine)
    assert main(["packet", "--audit", str(audit), "--provider", npi, "--out", str(tmp_path)]) == 0
    html = (tmp_path / packet_name("provider", npi)).read_text(encoding="utf-8")
    theirs = findings.filter(pl.col("provider_npi") == npi)["claim_id"].unique().to_list()
    assert sorted(re.findall(r'data-claim="([^"]+)"', html)) == sorted(theirs)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--claim", "NO-SUCH-CLAIM"], "is not among the audit's accepted claim lines"),
        (["--provider", "0000000000"], "has no finding for provider"),
    ],
)
def test_packet_errors_are_one_line(
    audit: Path, tmp_path: Path, capsys, args: list[str], message: str
) -> None:
    assert main(["packet", "--audit", str(audit), *args, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_packet_refuses_an_audit_folder_without_a_run_or_changed_inputs(
    audit: Path, tmp_path: Path, capsys
) -> None:
    assert main(["packet", "--audit", str(tmp_path), "--claim", "C", "--out", str(tmp_path)]) == 2
    assert "run.json" in capsys.readouterr().err
    copy = tmp_path / "copy"
    shutil.copytree(audit, copy)
    run = json.loads((copy / "run.json").read_text())
    plans = Path(run["inputs"]["plans"]["path"])
    changed = tmp_path / "plans.csv"
    changed.write_text(plans.read_text() + "\n", encoding="utf-8")
    run["inputs"]["plans"]["path"] = str(changed)
    (copy / "run.json").write_text(json.dumps(run))
    assert main(["packet", "--audit", str(copy), "--claim", "C", "--out", str(tmp_path)]) == 2
    assert "has changed since the run" in capsys.readouterr().err


def test_redacted_audit_packets_hold_no_raw_patient_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("THERAPY_AUDIT_REDACT_KEY", "packet-test-key")
    out = tmp_path / "out"
    argv = ["run", *SAMPLE_ARGS, "--out", str(out), "--no-history", "--no-expectations",
            "--redact", "--packets", "--packet-limit", "3"]  # fmt: skip
    assert main(argv) == 0
    raw_ids = set(pl.read_csv(SAMPLE_INPUTS[0], infer_schema_length=0)["patient_id"].to_list())
    pages = list((out / "packets").glob("*.html"))
    assert len(pages) == 4
    findings = pl.read_parquet(out / "findings.parquet")
    patient = findings["patient_id"][0]
    packet = ["packet", "--audit", str(out), "--patient", patient, "--out", str(tmp_path)]
    capsys.readouterr()
    assert main(packet) == 2  # a redacted run records no input paths: they must be given
    assert "--claims" in capsys.readouterr().err
    assert main([*packet, *SAMPLE_ARGS]) == 0
    pages.append(tmp_path / packet_name("patient", patient))
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not any(re.search(rf"\b{re.escape(p)}\b", html) for p in raw_ids), page.name
    assert patient in pages[-1].read_text(encoding="utf-8")  # the findings' pseudonym
    monkeypatch.delenv("THERAPY_AUDIT_REDACT_KEY")
    capsys.readouterr()
    assert main([*packet, *SAMPLE_ARGS]) == 2
    assert "THERAPY_AUDIT_REDACT_KEY" in capsys.readouterr().err


def test_hostile_values_are_escaped_in_a_packet(validated_sample: ValidationSummary) -> None:
    from flows.outputs.packets import packet_page
    from tests.support import report_fixture as fx

    v = validated_sample
    context = load_context(None)
    claim = v.claims["claim_id"][0]
    evil = "<script>alert(1)</script>"
    frames = packet_frames(v.claims, v.notes, v.plans, context, [claim])
    hostile = frames.lines.with_columns(pl.lit(evil).alias("payer_id"))
    frames = type(frames)(hostile, frames.notes, frames.plans)
    findings = pl.DataFrame(
        [finding("UNITS-8MIN", "error", claim, 1, "N", 1, 5.0, message=evil, evidence=evil)],
        schema=FINDINGS_SCHEMA,
    )
    name, html = packet_page("claim", claim, frames, findings, context, fx.RUN, None)
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and name == packet_name("claim", claim)


def test_a_run_into_the_same_folder_never_keeps_the_previous_runs_packets(tmp_path: Path) -> None:
    out = tmp_path / "out"
    base = ["run", *SAMPLE_ARGS, "--out", str(out), "--no-history", "--no-expectations"]
    assert main([*base, "--packets", "--packet-limit", "3"]) == 0
    assert len(list((out / "packets").glob("claim-*.html"))) == 3
    assert main(base) == 0
    assert not list((out / "packets").glob("*.html"))
