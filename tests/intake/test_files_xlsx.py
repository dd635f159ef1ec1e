"""XLSX import: typed cells (dates, numbers), sheet choice, damaged workbooks."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from gateway.domain.records import validate_data
from gateway.intake.files import FileUnreadable, parse_file

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def workbook(*sheets: tuple[str, list[list[object]]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


PENALTY_HEADER = [
    "行政相对人名称", "统一社会信用代码", "工商注册号", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
    "处罚类别", "处罚内容", "罚款金额（万元）", "没收违法所得、没收非法财物的金额（万元）", "处罚决定日期",
    "处罚机关", "处罚机关统一社会信用代码", "行政区划",
]  # fmt: skip


def penalty_row(**overrides: object) -> list[object]:
    row: dict[str, object] = {
        "name": "杭州某某化工有限公司",
        "uscc": "91330106MA2B1C2D8U",
        "reg_no": 330106000012345,  # typed as a number, as Excel does with long digit strings
        "doc": "杭应急罚〔2025〕12号",
        "wfxw": "违反安全生产法",
        "wfss": "未培训",
        "yj": "安全生产法第九十七条",
        "cflb": "罚款",
        "nr": "罚款三万元",
        "fk": 3.0,
        "wfff": 0.15,
        "jdrq": dt.datetime(2025, 3, 1),
        "cfjg": "杭州市应急管理局",
        "cfjgdm": "11330100002489006R",
        "region": 330106,
    }
    row.update(overrides)
    return list(row.values())


def test_xlsx_date_and_number_cells_become_iso_dates_ints_and_exact_decimals() -> None:
    accident = [
        ["kind", "source_record_id", "uscc", "occurred_on", "grade", "deaths", "injuries", "responsibility"],
        ["accident", "SG-1", "91330106MA2B1C2D8U", dt.datetime(2025, 2, 14), "较大", 3.0, 0, True],
    ]
    data = workbook(("Sheet1", [PENALTY_HEADER, penalty_row()]), ("accidents", accident))
    parsed = parse_file(data, "export.xlsx", XLSX_TYPE)

    assert parsed.format == "xlsx"
    assert parsed.encoding is None
    assert parsed.problems == []
    record = parsed.records[0].record
    assert parsed.records[0].row == 2
    assert record["data"]["CF_JDRQ"] == "2025-03-01"
    assert record["data"]["CF_NR_FK"] == "3"
    assert record["data"]["CF_NR_WFFF"] == "0.15"  # not 0.1499999...
    assert record["data"]["CF_XDR_GSZC"] == "330106000012345"
    assert record["subject"]["reg_no"] == "330106000012345"
    assert record["region"] == "330106"
    validate_data("penalty", record["data"])


def test_float_in_an_int_column_becomes_an_int() -> None:
    rows = [
        ["kind", "source_record_id", "uscc", "occurred_on", "grade", "deaths", "injuries", "responsibility"],
        ["accident", "SG-1", "91330106MA2B1C2D8U", dt.date(2025, 2, 14), "较大", 3.0, 2.0, "是"],
    ]
    parsed = parse_file(workbook(("事故", rows)), "a.xlsx", None)

    data = parsed.records[0].record["data"]
    assert data == {
        "occurred_on": "2025-02-14",
        "grade": "较大",
        "deaths": 3,
        "injuries": 2,
        "responsibility": True,
    }
    assert type(data["deaths"]) is int
    validate_data("accident", data)


def test_sheet_named_after_the_expected_kind_is_read_instead_of_the_first() -> None:
    notes = [["说明"], ["请在“行政处罚”工作表填写"]]
    data = workbook(("填报说明", notes), ("行政处罚", [PENALTY_HEADER, penalty_row()]))
    parsed = parse_file(data, "a.xlsx", None, default_kind="penalty")

    assert parsed.problems == []
    assert parsed.records[0].record["kind"] == "penalty"


def test_blank_rows_are_skipped_but_keep_their_row_numbers() -> None:
    data = workbook(
        ("Sheet1", [PENALTY_HEADER, [], penalty_row(), [None, None], penalty_row(doc="杭应急罚〔2025〕13号")])
    )
    parsed = parse_file(data, "a.xlsx", None)

    assert [r.row for r in parsed.records] == [3, 5]


def test_excel_serial_number_in_a_date_column_is_read_as_a_date() -> None:
    parsed = parse_file(workbook(("Sheet1", [PENALTY_HEADER, penalty_row(jdrq=45717)])), "a.xlsx", None)

    assert parsed.records[0].record["data"]["CF_JDRQ"] == "2025-03-01"


def test_time_of_day_in_a_date_column_is_an_unreadable_cell() -> None:
    parsed = parse_file(
        workbook(("Sheet1", [PENALTY_HEADER, penalty_row(jdrq=dt.time(9, 30))])), "a.xlsx", None
    )

    assert parsed.records == []
    assert [(p.row, p.field, p.reason) for p in parsed.problems] == [(2, "处罚决定日期", "bad_date")]


def test_damaged_workbook_is_unreadable() -> None:
    with pytest.raises(FileUnreadable) as err:
        parse_file(b"PK\x03\x04 not really a zip", "a.xlsx", XLSX_TYPE)
    assert err.value.reason == "malformed_xlsx"


def test_legacy_xls_is_refused_with_advice() -> None:
    with pytest.raises(FileUnreadable) as err:
        parse_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "a.xls", "application/vnd.ms-excel")
    assert err.value.reason == "unsupported_format"
