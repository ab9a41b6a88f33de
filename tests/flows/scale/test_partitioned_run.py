"""The partitioned run (flows/run/partitioned.py): the exports cut into patient partitions on disk
and validated and audited one partition at a time write the same findings.csv, quarantine.csv,
validation.json and summary.json as one pass in memory, whatever the number of partitions, with
Parquet files read in slices, claim-line keys repeated under patients of different partitions,
blank rows, redaction, an audit period and a claims-only audit; the work folder is gone after
the run, failed or not. No Prefect."""

from __future__ import annotations

import dataclasses
import filecmp
import os
import signal
from pathlib import Path

import polars as pl
import pytest

from checks.registry import all_rules
from flows.cli.main import main
from flows.run import rules as run_rules_module
from flows.run.direct import run_direct
from flows.run.partitioned import in_worker, run_partitioned
from flows.run.progress import SILENT
from flows.run.settings import settings
from flows.scale import store_rules as store_rules_module
from flows.scale.cut import cut_export
from flows.scale.partitions import bucket
from flows.scale.sizing import BYTES_PER_LINE_IN_MEMORY, partitions_for
from flows.synth.generate import generate
from schemas.errors import InputError
from tests.flows.inputs.test_mapping_transform import MAPPING, ROW
from tests.support.paths import SAMPLE_INPUTS, SAMPLE_PROVIDERS
from tests.support.rows import write_csv_text

SAME = ("findings.csv", "quarantine.csv", "validation.json", "summary.json")
GB = 1024**3


def both(
    tmp: Path, claims, notes, plans, k: int, slice_rows: int = 1_000_000, worker: bool = True,
    dask_address: str | None = None, **options,
):  # fmt: skip
    """One pass and the partitioned run of the same inputs (its first stages in a worker
    process unless `worker` is False; its partitions on the Dask scheduler at `dask_address`
    when given); the work folder must be gone after it. Both runs have one id and start time,
    so their report.html is the same page: the partitioned run's report reads the store as a
    scan (scorecard, past review, exposure, dates of service) and must show the same figures."""
    options = {"history": False, "expectations": False, "run_id": "same-run", **options}
    work = tmp / "work"
    work.mkdir(parents=True)
    first = settings(claims, notes, plans, tmp / "one", **options)
    one = run_direct(first)
    cut = run_partitioned(
        dataclasses.replace(
            settings(claims, notes, plans, tmp / "cut", **options), started_at=first.started_at
        ),
        k, work_dir=work, slice_rows=slice_rows, worker=worker, dask_address=dask_address,
    )  # fmt: skip
    for name in (*SAME, "report.html") if first.report else SAME:
        assert filecmp.cmp(tmp / "one" / name, tmp / "cut" / name, shallow=False), name
    # the report's scorecard measures, added up over the partitions (exact: counts and minutes)
    measured = [r.result.providers for r in (one, cut)]
    assert measured[0] is not None and measured[1] is not None
    assert measured[1].sort("provider_npi").equals(measured[0].sort("provider_npi"))
    assert list(work.iterdir()) == []  # the work folder is removed
    return one, cut


@pytest.mark.parametrize("k", [1, 3, 7])
def test_the_sample_in_partitions_is_the_sample_in_one_pass(tmp_path: Path, k: int) -> None:
    one, cut = both(tmp_path, *SAMPLE_INPUTS, k, providers=SAMPLE_PROVIDERS)
    assert one.summary["findings"] > 0
    assert cut.mode == "partitioned"


def test_generated_parquet_read_in_slices(tmp_path: Path) -> None:
    """The generator's exports (every violation it plants, a providers export) as Parquet files
    read 997 rows at a time: slices cross row groups and patients. In this process, as a
    library caller may ask."""
    generate(4_000, 3, tmp_path / "data")
    data = tmp_path / "data"
    one, _ = both(
        tmp_path, data / "claims.parquet", data / "notes.parquet", data / "plans.parquet", 5,
        slice_rows=997, worker=False, providers=data / "providers.parquet",
    )  # fmt: skip
    assert one.summary["findings"] > 100


def _two_partitions(k: int) -> tuple[str, str]:
    """Two patient ids in different partitions of k."""
    ids = pl.Series("patient_id", [f"P{i}" for i in range(50)])
    parts = ids.to_frame().select("patient_id", part=bucket("patient_id", k))
    a = parts.row(0)
    b = parts.filter(pl.col("part") != a[1]).row(0)
    return a[0], b[0]


def _claims_csv(path: Path, rows: list[str]) -> Path:
    header = (
        "claim_id,line_number,patient_id,rendering_npi,payer_type,payer_id,service_date,"
        "procedure_code,modifiers,units,charge_amount,paid_amount,allowed_amount"
    )
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_a_key_repeated_under_patients_of_two_partitions_is_quarantined_as_in_one_pass(
    tmp_path: Path,
) -> None:
    """The contract sets aside every row of a repeated (claim_id, line_number): the copies
    billed under patients of different partitions meet in one partition, also when the key is
    written differently (" C1" and "C1", "01" and "1"); other lines stay with their patients."""
    a, b = _two_partitions(4)
    line = "1000000004,medicare,MCR,2026-03-02,97110,GP,{units},120.00,80.00,90.00"
    claims = _claims_csv(
        tmp_path / "claims.csv",
        [
            f"C1,1,{a}," + line.format(units=2),
            f" C1 ,01,{b}," + line.format(units=3),  # the same key, cleaned
            f"C1,2,{b}," + line.format(units=5),  # another line of the claim: accepted
            f"C2,1,{a}," + line.format(units=9),  # accepted, past the 8-minute rule
            f"C3,1,{b}," + line.format(units=1),
            ",,,,,,,,,,,,",  # blank: skipped and counted
        ],
    )
    one, _ = both(tmp_path, claims, None, None, 4)
    exports = one.validation.summary["exports"]["claims"]
    assert exports["rows_quarantined"] == 2
    assert exports["blank_rows_skipped"] == 1


def test_a_claim_billed_under_patients_of_two_partitions_is_one_claim_of_its_provider(
    tmp_path: Path,
) -> None:
    """The scorecard counts a provider's distinct claims: a claim id whose lines name patients
    of two partitions (a payer reusing claim numbers across members, a merged export) is one
    claim, as in one pass, though each partition sees a line of it."""
    a, b = _two_partitions(4)
    line = "1000000004,medicare,MCR,2026-03-02,97110,GP,1,40.00,30.00,35.00"
    claims = _claims_csv(
        tmp_path / "claims.csv",
        [f"C1,1,{a},{line}", f"C1,2,{b},{line}", f"C2,1,{a},{line}", f"C3,1,{b},{line}"],
    )
    one, cut = both(tmp_path, claims, None, None, 4)
    for run in (one, cut):
        assert run.result.providers is not None
        card = run.result.providers.filter(pl.col("provider_npi") == "1000000004")
        assert card.select("lines", "claims").row(0) == (4, 3)


def test_beneficiaries_past_the_review_threshold_in_two_partitions_are_one_list(
    tmp_path: Path,
) -> None:
    """report.html lists the beneficiaries whose year of PT passes the targeted medical-review
    threshold (Pub. 100-04 Ch. 5 §10.3): each partition lists its own patients, and the run's
    list is one pass's, in its order (both() compares the pages)."""
    a, b = _two_partitions(4)
    line = "1000000004,medicare,MCR,2026-03-0{day},97110,GP,1,2100.00,1600.00,{allowed}"
    amounts = [(a, "2000.00"), (a, "1500.00"), (b, "2000.00"), (b, "2000.00"), ("P49", "20.00")]
    rows = [
        f"C{i},1,{patient}," + line.format(day=i, allowed=allowed)
        for i, (patient, allowed) in enumerate(amounts, start=1)
    ]
    _, cut = both(tmp_path, _claims_csv(tmp_path / "claims.csv", rows), None, None, 4)
    assert cut.result.reduced is not None and cut.result.reduced.past_review is not None
    listed = cut.result.reduced.past_review.select("patient_id", "allowed").rows()
    assert listed == [(b, 4000.0), (a, 3500.0)]


def test_redacted_period_and_claims_only_runs(tmp_path: Path, monkeypatch) -> None:
    """One redaction key for the run (the pseudonyms of every partition agree), an audit period
    (lines outside it counted, not audited), no notes or plans export."""
    monkeypatch.setenv("THERAPY_AUDIT_REDACT_KEY", "partitioned-test-key")
    claims, notes, plans = SAMPLE_INPUTS
    both(tmp_path / "r", claims, notes, plans, 3, redact=True, period="2026-02-01..2026-04-30")
    both(tmp_path / "c", claims, None, None, 2)


def test_the_expectations_judge_the_whole_store(tmp_path: Path) -> None:
    one, cut = both(tmp_path, *SAMPLE_INPUTS, 3, expectations=True)
    assert one.summary["expectations"] == cut.summary["expectations"]


def test_a_failed_cut_leaves_no_work_folder(tmp_path: Path) -> None:
    claims, _, plans = SAMPLE_INPUTS
    empty = tmp_path / "notes.csv"
    empty.write_text("note_id,patient_id\n", encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    s = settings(claims, empty, plans, tmp_path / "out", history=False, expectations=False)
    with pytest.raises(InputError, match="no data rows"):
        run_partitioned(s, 3, work_dir=work)
    assert list(work.iterdir()) == []


def test_a_slice_of_blank_rows_is_no_verdict_on_its_file(tmp_path: Path) -> None:
    """A Parquet file whose first slice is all blank rows still has data rows."""
    claims = pl.read_csv(SAMPLE_INPUTS[0], infer_schema=False)
    blank = pl.DataFrame({c: [None] * 5 for c in claims.columns}, schema=claims.schema)
    path = tmp_path / "claims.parquet"
    pl.concat([blank, claims]).write_parquet(path, row_group_size=5)
    cut = cut_export("claims", path, None, 2, tmp_path / "work", slice_rows=5)
    assert cut.files[0].source.blank_rows == 5
    rows = sum(cut.partition(k).frame.height for k in range(2))
    assert rows == claims.height


@pytest.mark.parametrize(
    ("lines", "available", "expected"),
    [
        (0, 16 * GB, 1),
        (1_000_000, 16 * GB, 1),
        # one pass while its peak stays under half the memory available
        (int(8 * GB / BYTES_PER_LINE_IN_MEMORY), 16 * GB, 1),
        (int(8 * GB / BYTES_PER_LINE_IN_MEMORY) + 1, 16 * GB, 6),
        # else partitions of a tenth of it
        (100_000_000, 24 * GB, 30),
    ],
)
def test_partitions_follow_the_memory_available(lines: int, available: int, expected: int) -> None:
    assert partitions_for(lines, available) == expected


def test_the_command_line_refuses_bad_partitions(tmp_path: Path, capsys) -> None:
    claims = SAMPLE_INPUTS[0]
    base = ["run", "--claims", str(claims), "--out", str(tmp_path / "out"), "--no-history"]
    assert main([*base, "--patient-partitions", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["therapy-audit: error: --patient-partitions must be at least 1"]
    assert main([*base, "--patient-partitions", "2", "--orchestrate"]) == 2
    assert "direct mode" in capsys.readouterr().err


def test_the_command_line_runs_in_partitions(tmp_path: Path, capsys) -> None:
    claims, notes, plans = SAMPLE_INPUTS
    work = tmp_path / "work"
    work.mkdir()
    args = [
        "run", "--claims", str(claims), "--notes", str(notes), "--plans", str(plans),
        "--out", str(tmp_path / "out"), "--no-history", "--no-expectations",
        "--patient-partitions", "3", "--work-dir", str(work),
    ]  # fmt: skip
    assert main(args) == 0
    assert "(partitioned mode, run " in capsys.readouterr().out
    assert (tmp_path / "out" / "findings.csv").exists()
    assert list(work.iterdir()) == []


def test_a_provider_rule_sees_the_notes_of_a_patient_billed_nothing(tmp_path: Path) -> None:
    """OVERLAP-PROVIDER sweeps a therapist's day over all of her patients: the note of a patient
    with no claim line (in a partition of its own, which runs no patient rule) still overlaps
    the one-on-one session billed for another patient (CMS Pub. 100-02, Ch. 15, 220.3)."""
    a, b = _two_partitions(3)
    line = "1000000004,medicare,MCR,2026-03-02,97110,GP,2,120.00,80.00,90.00"
    claims = _claims_csv(tmp_path / "claims.csv", [f"C1,1,{a},{line}"])
    notes = tmp_path / "notes.csv"
    header = (
        "note_id,patient_id,provider_npi,service_date,procedure_code,start_time,end_time,"
        "minutes,signed_at,note_text,discipline,note_type"
    )
    rows = [
        f"N1,{a},1000000004,2026-03-02,97110,09:00,09:30,30,2026-03-02 12:00:00,Exercise.,PT,",
        f"N2,{b},1000000004,2026-03-02,97110,09:10,09:40,30,2026-03-02 12:00:00,Exercise.,PT,",
    ]
    notes.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    one, _ = both(tmp_path, claims, notes, None, 3)
    assert one.summary["by_rule"]["OVERLAP-PROVIDER"]["findings"] == 1


def test_x12_claims_with_remittances(tmp_path: Path) -> None:
    """An 837P read whole (its reader numbers segments and knows its broken lines) and the
    835's paid amounts on each partition's claim lines."""
    generate(1_500, 5, tmp_path / "data", "x12")
    data = tmp_path / "data"
    one, _ = both(
        tmp_path, data / "claims.837", data / "notes.csv", data / "plans.csv", 4,
        remits=data / "remits.835",
    )  # fmt: skip
    assert one.summary["inputs"]["remits"]["rows_accepted"] > 0


def test_a_mapped_folder_with_row_filters(tmp_path: Path) -> None:
    """A payer extract in two files under its own headers, a value map, joined modifiers, a date
    format and a row filter: the filtered rows are counted per file as in one pass."""
    folder = tmp_path / "claims"
    folder.mkdir()
    a, b = _two_partitions(3)
    rows = [
        {**ROW, "CLM": f"C{i}", "MBR": (a, b)[i % 2], "TYPE": ("CHARGE", "PAYMENT")[i % 3 == 0]}
        for i in range(12)
    ]
    write_csv_text(folder / "2026-01.csv", rows[:7])
    write_csv_text(folder / "2026-02.csv", rows[7:])
    mapping = tmp_path / "m.toml"
    text = MAPPING + '\n[[claims.filter]]\ncolumn = "type"\nop = "=="\nvalue = "CHARGE"\n'
    mapping.write_text(text, encoding="utf-8")
    one, _ = both(tmp_path, folder, None, None, 3, mapping=mapping)
    assert one.validation.summary["exports"]["claims"]["rows_filtered"] == 4


def _killed(*_: object) -> None:
    """A worker the system stops, as the kernel's out-of-memory killer does (SIGKILL)."""
    os.kill(os.getpid(), signal.SIGKILL)


def _exits(*_: object) -> None:
    os._exit(3)


def test_a_worker_the_system_kills_is_one_line(tmp_path: Path) -> None:
    s = settings(*SAMPLE_INPUTS, tmp_path / "out", history=False, expectations=False)
    with pytest.raises(InputError, match=r"signal 9 .*more --patient-partitions"):
        in_worker(s, 2, tmp_path, 1_000, SILENT, target=_killed)
    with pytest.raises(RuntimeError, match=r"without an answer \(exit code 3\)"):
        in_worker(s, 2, tmp_path, 1_000, SILENT, target=_exits)


def test_a_rule_failing_in_one_partition_leaves_none_of_its_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule that raises on one patient's lines "failed to run" in one pass; in partitions it
    raises in one partition only, and the findings the others wrote of it are dropped too."""
    victim = sorted(pl.read_csv(SAMPLE_INPUTS[0], infer_schema=False)["patient_id"])[0]
    real = all_rules()["UNITS-8MIN"]

    def fails_for_one_patient(data, **params):
        if data.lines.filter(pl.col("patient_id") == victim).collect().height:
            raise ZeroDivisionError("boom")
        return real.func(data, **params)

    # the rule flags lines of patients outside the victim's partition, which the partitioned
    # run must drop as well
    flagged = run_direct(settings(*SAMPLE_INPUTS, tmp_path / "real", history=False))
    patients = flagged.result.findings.filter(pl.col("rule_id") == "UNITS-8MIN")["patient_id"]
    parts = patients.to_frame().select(bucket("patient_id", 3))["patient_id"]
    victims = pl.Series([victim]).to_frame("patient_id").select(bucket("patient_id", 3))
    assert set(parts) - set(victims["patient_id"])
    rules = {**all_rules(), "UNITS-8MIN": dataclasses.replace(real, func=fails_for_one_patient)}
    for module in (run_rules_module, store_rules_module):
        monkeypatch.setattr(module, "all_rules", lambda: rules)
    _, cut = both(tmp_path, *SAMPLE_INPUTS, 3, worker=False)
    assert cut.summary["by_rule"]["UNITS-8MIN"]["status"] == "failed to run"
    assert "UNITS-8MIN" not in set(cut.result.findings["rule_id"])
