"""The names of the files an audit writes into its output folder, in one place."""

from __future__ import annotations

FINDINGS_CSV = "findings.csv"
FINDINGS_PARQUET = "findings.parquet"
FINDINGS_XLSX = "findings.xlsx"
SUMMARY_JSON = "summary.json"
STATUS_CSV = "findings_status.csv"
REPORT_HTML = "report.html"
# the findings in three formats, as the report lists them for download
EXPORT_FILES = (FINDINGS_CSV, FINDINGS_PARQUET, FINDINGS_XLSX)
# the validation stage's files, and the run record written last (flows/outputs/atomic.py)
QUARANTINE_CSV = "quarantine.csv"
QUARANTINE_PARQUET = "quarantine.parquet"
VALIDATION_JSON = "validation.json"
RUN_JSON = "run.json"
# `run --packets`: the evidence packets' folder, its pages named <kind>-...html and index.html
PACKETS_DIR = "packets"
PACKET_PAGES = ("index.html", "claim-*.html", "patient-*.html", "provider-*.html")
# every file of a run, which a new run into the same folder removes before writing its own
RUN_FILES = (
    RUN_JSON, QUARANTINE_CSV, QUARANTINE_PARQUET, VALIDATION_JSON, FINDINGS_CSV,
    FINDINGS_PARQUET, FINDINGS_XLSX, SUMMARY_JSON, STATUS_CSV, REPORT_HTML,
)  # fmt: skip
