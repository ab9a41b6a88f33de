"""The audit logic, pure: polars frames in, findings out; no I/O, Prefect, Jinja or GE. Rule
declarations (declare.py) apart from the rule families (rules/), the registry that collects them,
the engine (matching, assembly, measures) and the summary."""
