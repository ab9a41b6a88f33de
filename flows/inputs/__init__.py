"""What comes in: each export read onto contract column names (one reader per file type), the
column mapping, redaction right after reading, and the validation stage with its quarantine:
rows read = accepted + quarantined, nothing lost."""
