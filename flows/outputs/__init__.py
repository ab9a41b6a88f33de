"""What goes out: the findings stage (findings, summary.json, status), the report page and the
workbook, written through the one list of writers in registry.py that both runners loop over;
CSV cells neutralised against spreadsheet formulas, every file written atomically."""
