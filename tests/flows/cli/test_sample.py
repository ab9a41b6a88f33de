"""`therapy-audit sample`: the commands' JSON, the files appraise writes, and one clear line with
exit 2 for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.cli.main import main
from tests.checks.sampling.examples import example_1


def _worksheet(path: Path, rows: list[str], header: str = "examined_amount,audited_amount") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _example_rows() -> list[str]:
    examined, audited = example_1()
    return [f"{e},{a}" for e, a in zip(examined, audited, strict=True)]


def test_numbers_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sample", "numbers", "--seed", "12345", "--frame-size", "1000", "--count", "10"]
    assert main([*argv, "--spares", "4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sample"] == [9, 236, 337, 340, 346, 497, 556, 641, 658, 884]
    assert data["spares"] == [404, 624, 927, 947]
    assert data["seed"] == 12345 and data["frame_size"] == 1000
    assert sorted(data["selection_order"]) == data["sample"]
    assert data["sum"] == sum(data["sample"]) + sum(data["spares"])


def test_size_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sample", "size", "--mean", "100", "--sd", "400", "--universe", "5000"]
    assert main([*argv, "--precision", "10", "--confidence", "90", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert 30 < data["sample_size"] < 5000


def test_appraise_reproduces_example_1(tmp_path: Path) -> None:
    sheet = _worksheet(tmp_path / "ws.csv", _example_rows())
    out = tmp_path / "out"
    assert main(["sample", "appraise", "--worksheet", str(sheet), "--universe", "10000",
                 "--out", str(out)]) == 0  # fmt: skip
    data = json.loads((out / "appraisal.json").read_text(encoding="utf-8"))
    diff = data["overall"]["difference"]
    assert diff["point_estimate"] == 706_000.0
    assert round(diff["limits"]["90"]["lower"]) == 591_881
    amounts = {a["key"]: a["amount"] for a in data["amounts"]}
    assert round(amounts["cms_lower_limit_one_sided_90"]) == 617_575
    assert round(amounts["oig_lower_limit_two_sided_90"]) == 591_881
    html = (out / "appraisal.html").read_text(encoding="utf-8")
    assert "591,881.09" in html and "<script" not in html


def test_stratified_appraisal_and_escaping(tmp_path: Path) -> None:
    rows = ["<b>low</b>,10,5", "<b>low</b>,20,20", "<b>low</b>,30,10", "high,500,400",
            "high,700,700", "high,900,100"]  # fmt: skip
    sheet = _worksheet(tmp_path / "ws.csv", rows, "stratum,examined_amount,audited_amount")
    strata = tmp_path / "strata.csv"
    strata.write_text("stratum,universe_size\n<b>low</b>,300\nhigh,40\n", encoding="utf-8")
    out = tmp_path / "out"
    argv = ["sample", "appraise", "--worksheet", str(sheet), "--strata", str(strata)]
    assert main([*argv, "--out", str(out)]) == 0
    data = json.loads((out / "appraisal.json").read_text(encoding="utf-8"))
    assert data["design"] == "stratified"
    parts = [s["difference"]["point_estimate"] for s in data["strata"].values()]
    assert data["overall"]["difference"]["point_estimate"] == pytest.approx(sum(parts))
    assert data["overall"]["difference"]["limits"]["90"]["distribution"] == "z"
    html = (out / "appraisal.html").read_text(encoding="utf-8")
    assert "<b>low</b>" not in html and "&lt;b&gt;low&lt;/b&gt;" in html


def test_attribute_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sample", "appraise", "--attribute", "--universe", "10000", "--sample-size", "100"]
    assert main([*argv, "--errors", "5", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["projected"] == 500.0
    assert data["limits"]["90"]["lower"] <= 500 <= data["limits"]["90"]["upper"]


BAD_SHEETS = {
    "missing column": ("examined_amount,notes", ["10,x"], "no column audited_amount"),
    "text amount": ("examined_amount,audited_amount", ["10,5", "12,abc"], "row 3: audited_amount"),
    "blank audited": ("examined_amount,audited_amount", ["10,5", "12,"], "row 3: audited_amount"),
}


@pytest.mark.parametrize("case", sorted(BAD_SHEETS))
def test_bad_worksheets_give_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header, rows, expected = BAD_SHEETS[case]
    sheet = _worksheet(tmp_path / "ws.csv", rows, header)
    argv = ["sample", "appraise", "--worksheet", str(sheet), "--universe", "100"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err and "Traceback" not in err
    assert "abc" not in err  # never the cell's value


def test_unknown_stratum(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sheet = _worksheet(tmp_path / "ws.csv", ["a,1,1", "a,2,1", "zzz,3,3"],
                       "stratum,examined_amount,audited_amount")  # fmt: skip
    strata = tmp_path / "strata.csv"
    strata.write_text("stratum,universe_size\na,10\n", encoding="utf-8")
    argv = ["sample", "appraise", "--worksheet", str(sheet), "--strata", str(strata)]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "row 4" in err and "zzz" not in err


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "numbers", "--seed", "1", "--frame-size", "-5", "--count", "2"],
        ["sample", "numbers", "--seed", "1", "--frame-size", "5", "--count", "2", "--spares", "-1"],
        ["sample", "size", "--mean", "1", "--sd", "-1", "--universe", "9", "--precision", "5",
         "--confidence", "90"],
        ["sample", "appraise", "--attribute", "--universe", "-3", "--sample-size", "1",
         "--errors", "0"],
        ["sample", "appraise", "--attribute", "--universe", "30"],
        ["sample", "appraise", "--worksheet", "nowhere.csv", "--universe", "5", "--out", "o"],
    ],
)  # fmt: skip
def test_bad_sizes_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("therapy-audit: error:")
