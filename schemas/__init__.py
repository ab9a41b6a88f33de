"""The contracts: the input exports' Pandera models (polars backend) with normalisation and
row-level validation, and the findings contract every output file keeps. Single rows and columns
only; anything that joins tables or compares rows is a rule in checks/."""

import schemas.pandera_polars  # noqa: F401  (pandera loads here, before any contract, without pandas)
