"""The remits export, when given, puts what the payer really paid on the claim lines before the
rules run (checks/remits.py), so money at risk comes from the remittance. Both runners call it
on the accepted frames, right after validation."""

from __future__ import annotations

import dataclasses

from checks.remits import apply_remits
from flows.inputs.validate import ValidationSummary


def with_remits(validation: ValidationSummary) -> ValidationSummary:
    """`validation` with its claims' paid and allowed amounts and line notes from the accepted
    remittance lines; unchanged when no remits export was given."""
    if validation.remits is None:
        return validation
    claims = apply_remits(validation.claims.lazy(), validation.remits.lazy()).collect()
    results = dict(validation.results)
    results["claims"] = dataclasses.replace(results["claims"], accepted=claims)
    return dataclasses.replace(validation, claims=claims, results=results)
