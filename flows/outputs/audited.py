"""What a run has found, with what the output writers need to know of the run itself."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import polars as pl

from checks.engine import AuditResult
from flows.inputs.validate import ValidationSummary
from flows.outputs.report import run_info_of
from flows.run.settings import RunSettings
from reports.history_view import Changes
from reports.view_model import RunInfo


@dataclass(frozen=True)
class Audited:
    settings: RunSettings
    validation: ValidationSummary
    result: AuditResult
    # summary.json, with the expectations, dispositions and history sections when the run had them
    summary: dict[str, Any]
    # the history diff and reviewer dispositions the report and the status file show
    changes: Changes
    # the claim lines audited: those of the audit period (checks/period.py), else every line
    lines: pl.DataFrame

    @cached_property
    def run_info(self) -> RunInfo:
        """The run's identity, inputs (with SHA-256) and scope, shared by page and workbook."""
        return run_info_of(self.settings, self.validation)
