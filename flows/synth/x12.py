"""`generate --format x12`: the synthetic claim lines as an 837P file and their payments as an
835 file (ASC X12N 005010X222A1 and 005010X221A1 layouts, `~` `*` `:` `^` delimiters).

Each generator block becomes one transaction set (ST..SE) of one functional group in one
interchange, so a large file also exercises several transactions. Every claim has its own
subscriber loop (2000B/2010BA: the patient id as member id, SBR09 from the payer type), the line's
rendering NPI in loop 2420A and its line control number (REF*6R, claim id + line number) that the
835 returns. Built with polars string expressions, one pass per block.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TextIO

import polars as pl

from schemas.contract import npi_check_digit

# Claim filing indicator (SBR09) per payer type: MB Medicare Part B, MC Medicaid, CI commercial.
FILING = {"medicare": "MB", "medicaid": "MC", "commercial": "CI", "other": "ZZ"}
_BILLING = "123456789"
BILLING_NPI = _BILLING + str(npi_check_digit(_BILLING))
_WHEN = dt.datetime(2026, 1, 1, 12, 0)


def _isa(kind: str) -> str:
    stamp = _WHEN.strftime("%y%m%d*%H%M")
    sender, receiver = f"{'THERAPYAUDIT':<15}", f"{'SYNTHETICPAYER':<15}"
    guide = "005010X222A1" if kind == "837" else "005010X221A1"
    group = "HC" if kind == "837" else "HP"
    return (
        f"ISA*00*{'':10}*00*{'':10}*ZZ*{sender}*ZZ*{receiver}*{stamp}*^*00501*000000001*0*T*:~\n"
        f"GS*{group}*THERAPYAUDIT*SYNTHETICPAYER*{_WHEN:%Y%m%d}*{_WHEN:%H%M}*1*X*{guide}~\n"
    )


def _money(name: str) -> pl.Expr:
    return pl.col(name).round(2).cast(pl.Decimal(18, 2)).cast(pl.String)


def _composite() -> pl.Expr:
    mods = pl.col("modifiers").fill_null("")
    return pl.concat_str(
        pl.lit("HC:"),
        pl.col("procedure_code"),
        pl.when(mods != "").then(pl.concat_str(pl.lit(":"), mods)).otherwise(pl.lit("")),
    )


def _control() -> pl.Expr:
    return pl.format("{}-{}", pl.col("claim_id"), pl.col("line_number"))


def _first_of_claim() -> pl.Expr:
    return pl.col("claim_id").ne_missing(pl.col("claim_id").shift())


def _date() -> pl.Expr:
    return pl.col("service_date").cast(pl.Date).dt.strftime("%Y%m%d")


def _837_segments(claims: pl.DataFrame) -> pl.Series:
    first = _first_of_claim()
    claim_no = first.cum_sum()
    header = pl.format(
        "HL*{}*1*22*0~\nSBR*P*18*******{}~\nNM1*IL*1*PATIENT*SYNTHETIC****MI*{}~\n"
        "NM1*PR*2*SYNTHETIC PAYER*****PI*{}~\nCLM*{}*{}***11:B:1*Y*A*Y*Y~\n",
        claim_no + 1,
        pl.col("payer_type").replace_strict(FILING, default="ZZ"),
        pl.col("patient_id"),
        pl.col("payer_id").fill_null("UNKNOWN"),
        pl.col("claim_id"),
        pl.col("charge_amount").sum().over("claim_id").round(2).cast(pl.Decimal(18, 2)),
    )
    line = pl.format(
        "LX*{}~\nSV1*{}*{}*UN*{}***1~\nDTP*472*D8*{}~\nREF*6R*{}~\n"
        "NM1*82*1*RENDERING*PROVIDER****XX*{}~\n",
        pl.col("line_number"),
        _composite(),
        _money("charge_amount"),
        pl.col("units"),
        _date(),
        _control(),
        pl.col("rendering_npi"),
    )
    text = pl.when(first).then(pl.concat_str(header, line)).otherwise(line)
    return claims.select(text.alias("text")).to_series()


def _835_segments(claims: pl.DataFrame) -> pl.Series:
    first = _first_of_claim()
    paid = pl.col("paid_amount")
    allowed = pl.col("allowed_amount")
    header = pl.format(
        "CLP*{}*1*{}*{}**{}*PAYERCTL{}~\nNM1*QC*1*PATIENT*SYNTHETIC****MI*{}~\n",
        pl.col("claim_id"),
        pl.col("charge_amount").sum().over("claim_id").round(2).cast(pl.Decimal(18, 2)),
        paid.sum().over("claim_id").round(2).cast(pl.Decimal(18, 2)),
        pl.col("payer_type").replace_strict(FILING, default="ZZ"),
        first.cum_sum(),
        pl.col("patient_id"),
    )
    # contractual obligation: charge above the allowed amount; patient responsibility: the rest
    co = (pl.col("charge_amount") - allowed).round(2).cast(pl.Decimal(18, 2))
    pr = (allowed - paid).round(2).cast(pl.Decimal(18, 2))
    adjustments = pl.when(allowed.is_not_null()).then(
        pl.format("CAS*CO*45*{}~\nCAS*PR*2*{}~\n", co, pr)
    )
    line = pl.concat_str(
        pl.format(
            "SVC*{}*{}*{}**{}~\nDTM*472*{}~\n",
            _composite(),
            _money("charge_amount"),
            paid.round(2).cast(pl.Decimal(18, 2)),
            pl.col("units"),
            _date(),
        ),
        adjustments.otherwise(pl.lit("")),
        pl.format("REF*6R*{}~\n", _control()),
        pl.when(allowed.is_not_null())
        .then(pl.format("AMT*B6*{}~\n", allowed.round(2).cast(pl.Decimal(18, 2))))
        .otherwise(pl.lit("")),
    )
    text = pl.when(first).then(pl.concat_str(header, line)).otherwise(line)
    return claims.select(text.alias("text")).to_series()


class X12Writer:
    """Appends one transaction set per block to claims.837 and remits.835 (opened lazily,
    closed with GE/IEA by `close`)."""

    def __init__(self, out: Path) -> None:
        self.paths = {"837": out / "claims.837", "835": out / "remits.835"}
        self.files: dict[str, TextIO] = {}
        self.sets = 0

    def write(self, claims: pl.DataFrame) -> None:
        claims = claims.sort("claim_id", "line_number", maintain_order=True)
        self.sets += 1
        # a line without a paid amount was not paid yet: the 835 leaves it out
        paid = claims.filter(pl.col("paid_amount").is_not_null())
        for kind, build, lines in (("837", _837_segments, claims), ("835", _835_segments, paid)):
            if kind not in self.files:
                fh = self.paths[kind].open("w", encoding="ascii", newline="")
                fh.write(_isa(kind))
                self.files[kind] = fh
            body = "".join(build(lines).to_list())
            self.files[kind].write(self._transaction(kind, body))

    def _transaction(self, kind: str, body: str) -> str:
        control = f"{self.sets:04d}"
        if kind == "837":
            head = (
                f"ST*837*{control}*005010X222A1~\nBHT*0019*00*{control}*{_WHEN:%Y%m%d}*1200*CH~\n"
                "NM1*41*2*THERAPY AUDIT SYNTHETIC*****46*THERAPYAUDIT~\n"
                "NM1*40*2*SYNTHETIC PAYER*****46*SYNTHETICPAYER~\n"
                f"HL*1**20*1~\nNM1*85*2*SYNTHETIC PRACTICE*****XX*{BILLING_NPI}~\n"
            )
        else:
            head = (
                f"ST*835*{control}~\nBPR*I*0*C*NON************{_WHEN:%Y%m%d}~\n"
                f"TRN*1*{control}*1THERAPYAU~\nN1*PR*SYNTHETIC PAYER~\n"
                f"N1*PE*SYNTHETIC PRACTICE*XX*{BILLING_NPI}~\nLX*1~\n"
            )
        segments = head.count("~") + body.count("~") + 1
        return f"{head}{body}SE*{segments}*{control}~\n"

    def close(self) -> None:
        for fh in self.files.values():
            fh.write(f"GE*{self.sets}*1~\nIEA*1*000000001~\n")
            fh.close()
