"""Inputs: each export read through the reader of its file type (formats/) with its columns put
onto contract names (mapping.py, read.py), patient ids pseudonymised when asked (redact.py),
checked against the input contract (validate.py), and the rows that break it set aside with the
reason (quarantine.py). Which files count as inputs, and which are ignored, is decided in
formats/ alone."""
