"""The rules stage beyond one process: the validated exports cut into independent partitions (by
patient, and by provider for provider-level rules) and run as Prefect tasks on a Dask cluster."""
