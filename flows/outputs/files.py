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
