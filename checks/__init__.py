"""Audit rules: pure functions from polars LazyFrames to findings. No I/O, Prefect or Jinja."""
