"""`therapy-audit sample draw` on the demo audit: the frame, the RAT-STATS sample, the pre-filled
worksheet and the plan; then reviewed and appraised (the round trip); and one clear line with
exit 2 for every bad input."""

from __future__ import annotations

import errno
import hashlib
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from checks.sampling.rng import random_numbers
from flows.cli.main import main
from flows.cli.sampling import draw as draw_module
from flows.inputs.redact import KEY_ENV
from flows.run.direct import AuditOutputs, run_audit
from tests.support.paths import SAMPLE_INPUTS

SEED = "12345"


@pytest.fixture(scope="module")
def drawn(demo_run: AuditOutputs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drawn") / "sample"
    argv = ["sample", "draw", "--audit", str(demo_run.out_dir), "--unit", "claim", "--size", "100"]
    assert main([*argv, "--spares", "5", "--seed", SEED, "--out", str(out)]) == 0
    return out


def test_writes_the_frame_the_rat_stats_sample_and_the_plan(
    drawn: Path, demo_run: AuditOutputs
) -> None:
    frame = pl.read_csv(drawn / "frame.csv", infer_schema=False)
    n = frame.height
    assert frame["frame_number"].to_list() == [str(i) for i in range(1, n + 1)]
    assert frame["unit_id"].n_unique() == n
    assert frame["unit_id"].to_list() == sorted(frame["unit_id"].to_list())
    claims = demo_run.validation.claims
    paid = claims.group_by("claim_id").agg(pl.col("paid_amount").fill_null(0).round(2).sum())
    assert n == paid.filter(pl.col("paid_amount") > 0).height

    sheet = pl.read_csv(drawn / "worksheet.csv", infer_schema=False)
    expected = random_numbers(12345.0, n, 100, 5)
    assert [int(v) for v in sheet["frame_number"]] == list(expected.sample)
    spares = pl.read_csv(drawn / "worksheet-spares.csv", infer_schema=False)
    assert [int(v) for v in spares["frame_number"]] == list(expected.spares)
    for column in ("reviewer", "determination", "reviewed_on", "notes"):
        assert sheet[column].null_count() == sheet.height
    by_unit = dict(zip(frame["unit_id"], frame["examined_amount"], strict=True))
    assert all(
        by_unit[u] == e for u, e in zip(sheet["unit_id"], sheet["examined_amount"], strict=True)
    )

    plan = json.loads((drawn / "sampling-plan.json").read_text(encoding="utf-8"))
    assert plan["frame"]["sha256"] == hashlib.sha256((drawn / "frame.csv").read_bytes()).hexdigest()
    assert plan["random_numbers"]["seed"] == 12345
    assert plan["random_numbers"]["seed_from_clock"] is False
    assert plan["design"]["strata"][0]["wichmann_hill_seeds"] == [11394, 24689, 22120]
    assert plan["universe_sizes"] == {"all": n}
    for item in ("sampling_unit", "universe", "frame", "sample_size", "random_numbers",
                 "design", "selection", "missing_items", "estimator", "program"):  # fmt: skip
        assert plan[item], item
    html = (drawn / "sampling-plan.html").read_text(encoding="utf-8")
    assert plan["frame"]["sha256"] in html and "<script" not in html and "http" not in html

    book = pl.read_excel(drawn / "worksheet.xlsx", sheet_name=["Sample", "Spares"])
    assert book["Sample"].height == 100 and book["Spares"].height == 5


def test_prefill_is_paid_minus_the_findings_each_line_once(
    drawn: Path, demo_run: AuditOutputs
) -> None:
    sheet = pl.read_csv(drawn / "worksheet.csv")
    flagged = sheet.filter(pl.col("amount_at_risk") > 0)
    assert flagged.height > 0, "the demo sample should hit at least one claim with findings"
    findings = pl.read_parquet(demo_run.findings_parquet)
    per_line = findings.group_by("claim_id", "line_number").agg(pl.col("amount_at_risk").max())
    risk = per_line.group_by("claim_id").agg(pl.col("amount_at_risk").sum().round(2).alias("r"))
    joined = flagged.join(risk, left_on="unit_id", right_on="claim_id")
    assert joined.height == flagged.height
    assert (joined["amount_at_risk"] - joined["r"]).abs().max() < 0.006  # type: ignore[operator]
    expected = (joined["examined_amount"] - joined["r"]).clip(lower_bound=0)
    assert ((joined["audited_amount"] - expected).abs() < 0.006).all()
    assert all(joined["findings"].str.len_chars() > 0)
    clean = sheet.filter(pl.col("amount_at_risk") == 0)
    assert (clean["audited_amount"] == clean["examined_amount"]).all()


def test_round_trip_review_then_appraise(drawn: Path, tmp_path: Path) -> None:
    sheet = pl.read_csv(drawn / "worksheet.csv", infer_schema=False)
    # the reviewer: the first unit has no records (audited 0), the rest as the findings say
    reviewed = sheet.with_columns(
        pl.lit("J. Reviewer").alias("reviewer"),
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("no documentation"))
        .otherwise(pl.lit("as pre-filled")).alias("determination"),
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("0")).otherwise(pl.col("audited_amount"))
        .alias("audited_amount"),
        pl.lit("2026-04-01").alias("reviewed_on"),
    )  # fmt: skip
    folder = tmp_path / "review"
    folder.mkdir()
    shutil.copy(drawn / "sampling-plan.json", folder)
    reviewed.write_csv(folder / "reviewed.csv")
    out = tmp_path / "appraisal"
    assert main(["sample", "appraise", "--worksheet", str(folder / "reviewed.csv"),
                 "--out", str(out)]) == 0  # fmt: skip
    data = json.loads((out / "appraisal.json").read_text(encoding="utf-8"))
    n_frame = int(pl.read_csv(drawn / "frame.csv").height)
    examined = reviewed["examined_amount"].cast(pl.Float64)
    audited = reviewed["audited_amount"].cast(pl.Float64)
    mean = float((examined - audited).mean())  # type: ignore[arg-type]
    diff = data["overall"]["difference"]
    assert diff["universe_size"] == n_frame and diff["sample_size"] == 100
    assert diff["point_estimate"] == pytest.approx(round(n_frame * mean, 2), abs=0.01)
    assert diff["point_estimate"] > 0


def test_stratified_draw_and_appraise_from_the_plan(demo_run: AuditOutputs, tmp_path: Path) -> None:
    out = tmp_path / "s"
    argv = ["sample", "draw", "--audit", str(demo_run.out_dir), "--unit", "line"]
    assert main([*argv, "--size", "30,20,2", "--strata", "50,120", "--seed", "7", "--out",
                 str(out)]) == 0  # fmt: skip
    plan = json.loads((out / "sampling-plan.json").read_text(encoding="utf-8"))
    frame = pl.read_csv(out / "frame.csv", infer_schema=False)
    sheet = pl.read_csv(out / "worksheet.csv", infer_schema=False)
    for offset, stratum in enumerate(plan["design"]["strata"]):
        name = stratum["stratum"]
        size = frame.filter(pl.col("stratum") == name).height
        assert plan["universe_sizes"][name] == size
        drawn = random_numbers(7.0 + offset, size, stratum["sample_size"]).sample
        got = sheet.filter(pl.col("stratum") == name)["stratum_frame_number"]
        assert [int(v) for v in got] == list(drawn)
    assert main(["sample", "appraise", "--worksheet", str(out / "worksheet.xlsx"), "--out",
                 str(tmp_path / "a")]) == 0  # fmt: skip
    data = json.loads((tmp_path / "a" / "appraisal.json").read_text(encoding="utf-8"))
    assert set(data["strata"]) == {"1", "2", "3"}


def test_seed_from_the_clock_is_recorded(demo_run: AuditOutputs, tmp_path: Path) -> None:
    out = tmp_path / "c"
    argv = ["sample", "draw", "--audit", str(demo_run.out_dir), "--unit", "patient-day"]
    assert main([*argv, "--size", "5", "--out", str(out)]) == 0
    plan = json.loads((out / "sampling-plan.json").read_text(encoding="utf-8"))
    seed = plan["random_numbers"]["seed"]
    assert plan["random_numbers"]["seed_from_clock"] is True and 0 <= seed < 86400
    n = plan["frame"]["units"]
    sheet = pl.read_csv(out / "worksheet.csv", infer_schema=False)
    assert [int(v) for v in sheet["frame_number"]] == list(random_numbers(seed, n, 5).sample)


def _copied_audit(demo_run: AuditOutputs, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    """The demo audit's record and findings with its claims copied beside them."""
    audit = tmp_path / "audit"
    audit.mkdir()
    shutil.copy(demo_run.findings_parquet, audit)
    run = json.loads((demo_run.out_dir / "run.json").read_text(encoding="utf-8"))
    claims = tmp_path / "claims.csv"
    shutil.copy(run["inputs"]["claims"]["path"], claims)
    run["inputs"]["claims"]["path"] = str(claims)
    (audit / "run.json").write_text(json.dumps(run), encoding="utf-8")
    return audit, run


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str], expected: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err


def _draw(audit: Path, tmp_path: Path, *extra: str) -> list[str]:
    return ["sample", "draw", "--audit", str(audit), "--unit", "claim", "--seed", "1",
            "--out", str(tmp_path / "o"), *extra]  # fmt: skip


def test_a_copied_audit_draws(
    demo_run: AuditOutputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit, _ = _copied_audit(demo_run, tmp_path)
    assert main(_draw(audit, tmp_path, "--size", "3")) == 0


def test_missing_run_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _fails(_draw(tmp_path, tmp_path, "--size", "3"), capsys, "has no run.json")
    _fails(_draw(tmp_path / "nowhere", tmp_path, "--size", "3"), capsys, "does not exist")


def test_changed_input(
    demo_run: AuditOutputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit, run = _copied_audit(demo_run, tmp_path)
    claims = Path(run["inputs"]["claims"]["path"])  # type: ignore[index]
    claims.write_bytes(claims.read_bytes() + b"\n")
    _fails(_draw(audit, tmp_path, "--size", "3"), capsys, "has changed since the run")
    claims.unlink()
    _fails(_draw(audit, tmp_path, "--size", "3"), capsys, "no longer exists")
    assert not (tmp_path / "o").exists()


def test_run_json_without_paths(
    demo_run: AuditOutputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    audit, run = _copied_audit(demo_run, tmp_path)
    for info in run["inputs"].values():  # type: ignore[attr-defined]
        del info["path"]
    (audit / "run.json").write_text(json.dumps(run), encoding="utf-8")
    _fails(_draw(audit, tmp_path, "--size", "3"), capsys, "re-run the audit")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--size", "100000"], "exceed"),
        (["--size", "3", "--spares", "-1"], "cannot be negative"),
        (["--size", "0"], "--size"),
        (["--size", "3", "--strata", "500,100"], "must increase"),
        (["--size", "3,4,5", "--strata", "50"], "3 sizes for 2 strata"),
    ],
)
def test_bad_sizes(
    extra: list[str],
    expected: str,
    demo_run: AuditOutputs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _fails(_draw(demo_run.out_dir, tmp_path, *extra), capsys, expected)


def test_unknown_unit(
    demo_run: AuditOutputs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sample", "draw", "--audit", str(demo_run.out_dir), "--unit", "visit", "--size", "3",
            "--out", str(tmp_path / "o")]  # fmt: skip
    assert main(argv) == 2
    assert "invalid choice: 'visit'" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_redacted_audit_patient_days_need_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(KEY_ENV, "the-run-key")
    run = run_audit(*SAMPLE_INPUTS, tmp_path / "audit", redact=True, report=False,
                    history=False, expectations=False)  # fmt: skip
    argv = ["sample", "draw", "--audit", str(run.out_dir), "--unit", "patient-day", "--size", "20",
            "--seed", "3", "--out", str(tmp_path / "o")]  # fmt: skip
    # a redacted run records no input paths (a file name may carry a patient id): given here
    _fails(argv, capsys, "a --redact run keeps them out): give --claims, --notes, --plans")
    argv += [f"--{e}={p}" for e, p in zip(("claims", "notes", "plans"), SAMPLE_INPUTS, strict=True)]
    assert main(argv) == 0
    ids = pl.read_csv(tmp_path / "o" / "frame.csv")["unit_id"].str.split(":").list.first()
    assert all(i.startswith("PT-") for i in ids)  # pseudonyms, never the export's ids
    raw = set(pl.read_csv(SAMPLE_INPUTS[0], infer_schema=False)["patient_id"])
    assert not raw & set(ids)
    monkeypatch.setenv(KEY_ENV, "another-key")
    _fails(argv, capsys, "is not the key the audit was redacted with")
    monkeypatch.delenv(KEY_ENV)
    _fails(argv, capsys, "the audit was redacted")


def test_the_frame_takes_the_rows_the_audit_took(tmp_path: Path) -> None:
    """A mapping that only warns about NPIs and filters rows out: the draw validates the claims
    as the audit did, so the frame holds the warned lines and the plan counts the filtered ones
    (lines read = accepted + quarantined + filtered, as in validation.json)."""
    claims = pl.read_csv(SAMPLE_INPUTS[0], infer_schema=False).head(60)
    claims = claims.with_columns(
        pl.when(pl.int_range(pl.len()) < 20)
        .then(pl.lit("1234567890"))  # fails the NPI check digit
        .otherwise(pl.col("rendering_npi"))
        .alias("rendering_npi"),
        pl.when(pl.int_range(pl.len()) >= 55).then(pl.lit("PAYMENT")).otherwise(pl.lit("CHARGE"))
        .alias("TYPE"),
    )  # fmt: skip
    path = tmp_path / "claims.csv"
    claims.write_csv(path)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text(
        'name = "masked"\nnpi_check = "warn"\n\n'
        '[[claims.filter]]\ncolumn = "TYPE"\nop = "=="\nvalue = "CHARGE"\n'
    )
    audit = tmp_path / "audit"
    args = ["run", "--claims", str(path), "--mapping", str(mapping), "--out", str(audit),
            "--no-history"]  # fmt: skip
    assert main(args) == 0
    read = json.loads((audit / "validation.json").read_text())["exports"]["claims"]
    assert (read["rows_read"], read["rows_accepted"], read["rows_filtered"]) == (60, 55, 5)
    out = tmp_path / "sample"
    assert main(["sample", "draw", "--audit", str(audit), "--unit", "line", "--size", "5",
                 "--seed", "1", "--out", str(out)]) == 0  # fmt: skip
    plan = json.loads((out / "sampling-plan.json").read_text(encoding="utf-8"))
    assert plan["universe"]["claim_lines_read"] == 60
    excluded = plan["frame"]["excluded"]
    assert (excluded["claim_lines_quarantined"], excluded["claim_lines_filtered"]) == (0, 5)
    paid = claims.head(55).filter(pl.col("paid_amount").cast(pl.Float64).fill_null(0) > 0)
    assert plan["frame"]["units"] == paid.height


def test_a_draw_that_fails_halfway_leaves_no_plan_and_no_partial_file(
    demo_run: AuditOutputs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sampling plan vouches for the files beside it: a draw into a folder that holds an
    earlier one removes the earlier plan first and writes its own last, each file under a
    temporary name renamed into place, so a disk that fills halfway (ENOSPC while the workbook
    is written) leaves no plan beside a frame it does not describe, and no half-written file."""
    audit, _ = _copied_audit(demo_run, tmp_path)
    out = tmp_path / "o"
    assert main(_draw(audit, tmp_path, "--size", "3")) == 0
    assert (out / "sampling-plan.json").exists()
    earlier = (out / "worksheet.xlsx").read_bytes()

    def full_disk(path: Path, *_: object) -> None:
        path.write_bytes(b"PK half a workbook")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(draw_module, "write_workbook", full_disk)
    _fails(_draw(audit, tmp_path, "--size", "4"), capsys, "worksheet.xlsx")
    assert not (out / "sampling-plan.json").exists()
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []
    assert (out / "worksheet.xlsx").read_bytes() == earlier  # the earlier draw's, whole
