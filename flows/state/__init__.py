"""What a run keeps between runs, I/O only: the DuckDB run history and the reviewed-findings file.
The diff against the previous run and the dispositions arithmetic are audit logic in checks/."""
