"""Bounded parsing in process: each reading limit refuses its file with a stable reason, and the
streaming readers hold even when the archive checks are turned off."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import replace

import pytest

from gateway.intake.files import FileUnreadable, LimitExceeded, ReadLimits, parse_file
from tests.intake import hostile_corpus as corpus

HEADER = "kind,source_record_id,uscc,year,filed_on"
ROW = "integrity_report,X{},91330106MA2B1C2D8U,2024,2025-01-01"
# archive checks off: what the streaming readers alone do with a bomb
NO_ARCHIVE_CHECKS = ReadLimits(xlsx_max_uncompressed_bytes=1 << 40, xlsx_max_compression_ratio=1e12)


def refused(data: bytes, name: str, limits: ReadLimits | None = None) -> LimitExceeded:
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as err:
        parse_file(data, name, None, limits=limits)
    assert time.monotonic() - started < 5
    return err.value


def test_the_corpus_makes_valid_workbooks_that_read_normally_when_small() -> None:
    for make in (corpus.xlsx_wide_row, corpus.xlsx_blank_rows, corpus.xlsx_huge_string):
        parsed = parse_file(make(20), "small.xlsx", None)
        assert parsed.format == "xlsx"
    problems = parse_file(corpus.xlsx_wide_row(20), "w.xlsx", None).problems
    assert sum(p.reason == "unnamed_column" for p in problems) == 19  # row 2 has 20 cells, the header 1


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (corpus.xlsx_wide_row, "archive_too_large"),  # 20,000,000 cells: 300 MB unpacked
        (corpus.xlsx_blank_rows, "archive_too_large"),  # 300,000,000 rows: 1.8 GB unpacked
        (corpus.xlsx_huge_string, "archive_too_large"),  # one 1 GiB shared string
    ],
)
def test_the_issues_workbooks_are_refused_by_their_zip_directory(make, reason) -> None:
    assert refused(make(), "bomb.xlsx").reason == reason


def test_a_part_packed_more_tightly_than_the_ratio_is_a_zip_bomb() -> None:
    data = corpus.xlsx_blank_rows(2_000_000)  # 12 MB unpacked, under the size limit
    err = refused(data, "bomb.xlsx")
    assert (err.reason, err.setting) == ("compression_ratio", "GATEWAY_INTAKE_XLSX_MAX_COMPRESSION_RATIO")


def test_streaming_stops_a_wide_row_at_the_cell_limit_before_building_it() -> None:
    err = refused(corpus.xlsx_wide_row(), "wide.xlsx", NO_ARCHIVE_CHECKS)
    assert (err.reason, err.setting) == ("too_many_columns", "GATEWAY_INTAKE_MAX_COLUMNS")
    assert "row 2" in str(err)


def test_streaming_counts_blank_rows_against_the_row_limit() -> None:
    err = refused(corpus.xlsx_blank_rows(), "blank.xlsx", replace(NO_ARCHIVE_CHECKS, max_rows=50_000))
    assert err.reason == "too_many_rows"


def test_streaming_refuses_a_shared_string_longer_than_a_cell() -> None:
    err = refused(corpus.xlsx_huge_string(40_000), "long.xlsx")
    assert (err.reason, err.setting) == ("cell_too_long", "GATEWAY_INTAKE_MAX_CELL_CHARS")
    # libxml2 stops a text node at 10 MB even before the string's end is seen
    with pytest.raises(FileUnreadable):
        parse_file(corpus.xlsx_huge_string(), "huge.xlsx", None, limits=NO_ARCHIVE_CHECKS)


def test_a_cell_far_to_the_right_is_refused_not_padded_to() -> None:
    sheet = (b'<worksheet xmlns="' + corpus.MAIN.encode() + b'"><sheetData>' + corpus._HEADER_ROW
             + b'<row r="2"><c r="XFD2"><v>1</v></c></row></sheetData></worksheet>')
    data = corpus._workbook_with(corpus.SHEET, corpus._stored(sheet))
    assert refused(data, "far.xlsx").reason == "too_many_columns"


def test_csv_header_of_two_million_columns_is_refused_before_it_is_split() -> None:
    err = refused(corpus.csv_wide_header(), "wide.csv")
    assert (err.reason, err.setting) == ("too_many_columns", "GATEWAY_INTAKE_MAX_COLUMNS")


def test_csv_columns_are_counted_exactly_below_the_cheap_bound() -> None:
    limits = ReadLimits(max_columns=10)
    quoted = ",".join(f'"a,{i}"' for i in range(11))  # 21 commas, 11 fields
    assert refused(f"{quoted}\r\n".encode(), "q.csv", limits).reason == "too_many_columns"
    ok = ",".join(f'"a,{i}"' for i in range(10))
    assert parse_file(f"{ok}\r\nx\r\n".encode(), "q.csv", None, limits=limits).format == "csv"


def test_csv_rows_blank_ones_included_count_against_the_row_limit() -> None:
    data = (HEADER + "\r\n" + "\r\n" * 50 + ROW.format(1) + "\r\n").encode()
    assert refused(data, "b.csv", ReadLimits(max_rows=40)).reason == "too_many_rows"
    assert len(parse_file(data, "b.csv", None, limits=ReadLimits(max_rows=51)).records) == 1


def test_csv_cell_longer_than_the_limit_is_refused() -> None:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER.split(","), ["integrity_report", "X", "9133", "x" * 40_000, "2025-01-01"]])
    err = refused(out.getvalue().encode(), "long.csv")
    assert err.reason == "cell_too_long"


def test_limits_come_from_the_settings() -> None:
    from gateway.config import load_settings

    settings = load_settings(intake_max_rows=7, intake_max_columns=20, intake_max_cell_chars=300,
                             intake_xlsx_max_uncompressed_bytes=2 << 20, intake_xlsx_max_compression_ratio=50)
    limits = ReadLimits.from_settings(settings)
    assert (limits.max_rows, limits.max_columns, limits.max_cell_chars) == (7, 20, 300)
    assert (limits.xlsx_max_uncompressed_bytes, limits.xlsx_max_compression_ratio) == (2 << 20, 50)
    assert ReadLimits.from_settings(load_settings()) == ReadLimits()  # the documented defaults


def _sheet_xml(body: bytes) -> bytes:
    return b'<worksheet xmlns="' + corpus.MAIN.encode() + b'"><sheetData>' + body


def test_elements_inside_a_row_count_too_not_only_its_cells() -> None:
    junk = b'<row r="2"><c r="A2"><v>1</v></c>' + b"<x/>" * 20_000 + b"</row></sheetData></worksheet>"
    data = corpus._workbook_with(corpus.SHEET, corpus._stored(_sheet_xml(corpus._HEADER_ROW + junk)))
    assert refused(data, "junk.xlsx").reason == "too_many_columns"


def test_elements_outside_rows_are_freed_not_refused() -> None:
    # a sheet with a hyperlink per row keeps 20,000 elements after its rows: read, not kept
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>penalty</t></is></c></row>' % (i, i)
                    for i in range(2, 12))
    links = b"<hyperlinks>" + b'<hyperlink ref="A2" display="x"/>' * 20_000 + b"</hyperlinks>"
    sheet = _sheet_xml(corpus._HEADER_ROW + rows) + b"</sheetData>" + links + b"</worksheet>"
    sheet = sheet.replace(b"</sheetData></sheetData>", b"</sheetData>")
    data = corpus._workbook_with(corpus.SHEET, corpus._stored(sheet))
    parsed = parse_file(data, "links.xlsx", None)
    assert parsed.format == "xlsx" and not any(p.reason == "too_many_columns" for p in parsed.problems)


def test_a_shared_string_of_too_many_runs_is_refused() -> None:
    runs = b"<si>" + b"<r><t>a</t></r>" * 40_000 + b"</si>"
    part = b'<sst xmlns="' + corpus.MAIN.encode() + b'"><si><t>kind</t></si>' + runs + b"</sst>"
    data = corpus._workbook_with(corpus.STRINGS, corpus._stored(part))
    assert refused(data, "runs.xlsx").reason == "cell_too_long"
