"""Input and findings contracts (Pandera, polars backend)."""
