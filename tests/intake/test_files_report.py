"""The rejection report, and how a file's format is recognised."""

from __future__ import annotations

import csv
import io

import pytest

from gateway.intake.files import RowProblem, detect_format, parse_file, write_rejection_report


def test_rejection_report_is_utf8_csv_with_bom_that_excel_and_csv_readers_open() -> None:
    report = write_rejection_report(
        [
            (1, "联系电话", "unknown_column", "column '联系电话' is not a known field"),
            (3, "data.CF_JDRQ", "bad_date", "日期无效, 请按 YYYY-MM-DD 填写"),
        ]
    )

    assert report.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(report.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["row", "field", "reason", "message"],
        ["1", "联系电话", "unknown_column", "column '联系电话' is not a known field"],
        ["3", "data.CF_JDRQ", "bad_date", "日期无效, 请按 YYYY-MM-DD 填写"],
    ]


def test_rejection_report_accepts_parse_problems_directly() -> None:
    parsed = parse_file("kind,uscc,电话\nlawsuit,9133,1\n".encode(), "a.csv", None)
    report = write_rejection_report(parsed.problems)

    rows = list(csv.DictReader(io.StringIO(report.decode("utf-8-sig"), newline="")))
    assert [(r["row"], r["field"], r["reason"]) for r in rows] == [
        ("1", "电话", "unknown_column"),
        ("2", "kind", "unknown_kind"),
    ]
    assert isinstance(parsed.problems[0], RowProblem)


def test_rejection_report_defuses_cells_excel_would_run_as_formulas() -> None:
    report = write_rejection_report([(2, '=HYPERLINK("http://x")', "bad_value", "+1")])

    rows = list(csv.reader(io.StringIO(report.decode("utf-8-sig"), newline="")))
    assert rows[1] == ["2", '\'=HYPERLINK("http://x")', "bad_value", "'+1"]


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "expected"),
    [
        (b"PK\x03\x04rest", None, None, "xlsx"),
        (b"PK\x03\x04rest", "a.csv", "text/csv", "xlsx"),  # content first
        (b"\xef\xbb\xbf  <?xml version='1.0'?><records/>", None, None, "xml"),
        ("<records/>".encode("utf-16"), None, None, "xml"),
        (b"<records/>", "a.csv", "text/csv", "xml"),
        (b"kind,uscc\n", "a.xml", None, "xml"),  # then the name
        (b"kind,uscc\n", None, "application/xml", "xml"),  # then the declared type
        (b"kind,uscc\n", "a.xlsx", None, "xlsx"),
        (b"kind,uscc\n", None, None, "csv"),
    ],
)
def test_format_is_detected_by_content_then_name_then_type(
    data: bytes, filename: str | None, content_type: str | None, expected: str
) -> None:
    assert detect_format(data, filename, content_type) == expected
