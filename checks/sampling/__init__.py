"""The auditor's statistics, pure: RAT-STATS single-stage random numbers from a seed, variable
and attribute appraisal, Student-t and normal quantiles, and sample sizes (no I/O)."""
