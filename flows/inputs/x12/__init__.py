"""X12 EDI inputs: 837P claims and 835 remittances (ASC X12N 005010X222A1, 005010X221A1)."""
