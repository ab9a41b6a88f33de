"""findings.xlsx: the workbook frame from xlsxwriter, the family sheets as SpreadsheetML built by
polars expressions, deflated on several threads."""
