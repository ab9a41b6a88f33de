"""What a run has found, with what the output writers need to know of the run itself."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from checks.engine import AuditResult
from checks.rows import Lines
from flows.inputs.validate import ValidationSummary
from flows.outputs.report import run_info_of
from flows.run.settings import RunSettings
from reports.history_view import Changes
from reports.view_model import RunInfo


@dataclass(frozen=True)
class Rows:
    """The accepted claim lines and notes the last stages read: the validation's frames in
    memory, or a partitioned run's store scanned (checks/period.py, Lines)."""

    claims: Lines
    notes: Lines


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
    lines: Lines
    # every accepted note (the report's cloned-notes measure reads those of the period)
    notes: Lines

    @cached_property
    def run_info(self) -> RunInfo:
        """The run's identity, inputs (with SHA-256) and scope, shared by page and workbook."""
        return run_info_of(self.settings, self.validation, self.lines)
