"""Intake: records arriving from agencies (API bodies and imported files).

`gateway.intake.files.parse_file` turns an uploaded CSV, XLSX or XML file into raw record
dicts plus row-level problems; validation and storage happen downstream.
"""
