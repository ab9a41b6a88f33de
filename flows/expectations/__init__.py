"""Great Expectations glue for the dataset expectations: thresholds from data/expectations.toml,
the stage that hands the metrics to GE, and the worker process GE is imported and run in."""
