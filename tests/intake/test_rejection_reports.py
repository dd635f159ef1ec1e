"""The rejection report a clerk can act on: Chinese by default, English on request; the row, the
column as headed, the bad value, the reason, what was probably meant; nothing for what the
gateway derives itself. As a CSV and as the uploaded sheet marked and commented: fixed as it
says and uploaded again, the file imports cleanly."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from gateway.cli import main
from tests.intake.conftest import AGENCY_USCC
from tests.intake.test_platform_exports import (
    CODES,
    HEADER_ZH,
    csv_bytes,
    row_zh,
    two_row_xlsx,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SLIPPED = CODES[2][:10] + "O" + CODES[2][11:]  # a 0 typed as the letter O


def bad_rows() -> tuple[list[str], list[list[str]]]:
    header = list(HEADER_ZH)
    header[14] = "处罚决定日 期x"  # a typo in the header: that column is not read
    header.append("联系电话")  # a column the gateway does not know
    rows = [row_zh(i) + ["0816-1234567"] for i in range(4)]
    rows[1][7] = ""  # no 决定书文号: the source record id derives from it, only it is reported
    rows[2][1] = SLIPPED
    rows[3][16] = "11510700MB1234567X"  # 处罚机关代码 with a wrong check character
    return header, rows


def report(client, data: bytes, ctype: str = "text/csv", accept: str = "text/csv", lang: str = "") -> bytes:
    query = "agency=MY-AJJ" + (f"&lang={lang}" if lang else "")
    r = client.post(f"/v1/records:import?{query}", content=data, headers={"content-type": ctype, "accept": accept})
    assert r.status_code == 200, r.text
    return r.content


def rows_of(report_csv: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(report_csv.decode("utf-8-sig"), newline="")))


def test_the_report_is_chinese_and_names_row_column_value_reason_and_the_likely_fix(client, agency_with_uscc):
    header, rows = bad_rows()
    lines = rows_of(report(client, csv_bytes(header, rows, "gb18030")))

    assert lines[0] == ["行号", "列", "错误值", "原因代码", "说明", "建议"]
    by = {(line[0], line[1], line[3]): line for line in lines[1:]}
    typo = by[("1", "处罚决定日 期x", "unknown_column")]
    assert typo[5] == "处罚决定日期" and "不是可识别的字段" in typo[4]
    assert by[("1", "联系电话", "unknown_column")][5] == ""
    missing = by[("1", "处罚决定日期", "missing_column")]  # once, not once per row
    assert "CF_JDRQ" in missing[4]
    assert ("3", "行政处罚决定书文号", "required") in by
    assert not any(line[1] in ("source_record_id", "源记录编号") for line in lines[1:])
    slip = by[("4", "行政相对人代码_1(统一社会信用代码)", "invalid_character")]
    assert slip[2] == SLIPPED and slip[5] == CODES[2] and "是否应为" in slip[4]
    issuer = by[("5", "处罚机关统一社会信用代码", "invalid_org_code_checksum")]
    assert issuer[2] == "11510700MB1234567X"
    assert len(lines) == 1 + 6


def test_the_report_is_english_on_request(client, agency_with_uscc):
    header, rows = bad_rows()
    lines = rows_of(report(client, csv_bytes(header, rows), lang="en"))
    assert lines[0] == ["row", "column", "value", "reason", "message", "did_you_mean"]
    slip = next(line for line in lines if line[3] == "invalid_character")
    assert "did you mean" in slip[4]

    r = client.post("/v1/records:import?agency=MY-AJJ", content=csv_bytes(header, rows),
                    headers={"content-type": "text/csv", "accept": "text/csv", "accept-language": "en-GB,en;q=0.9"})
    assert rows_of(r.content)[0][0] == "row"


def _fix_as_it_says(wb) -> None:  # noqa: ANN001
    """What the clerk does with the marked sheet: take each suggestion, correct the rest by hand."""
    sheet, listing = wb.worksheets[0], wb.worksheets[-1]
    suggestions = {(r[0].value, r[1].value): r[5].value for r in listing.iter_rows(min_row=2)}
    header_row = next(r for r in sheet.iter_rows() if any(c.comment for c in r) and r[0].row <= 2)[0].row
    for row in sheet.iter_rows():
        for cell in row:
            if cell.comment is None:
                continue
            headed = sheet.cell(header_row, cell.column).value
            fix = suggestions.get((cell.row, cell.value if cell.row == header_row else headed))
            if fix:
                cell.value = fix
            elif "[required]" in cell.comment.text:
                cell.value = "绵应急罚〔2025〕1号"
            elif "[invalid_org_code_checksum]" in cell.comment.text:
                cell.value = AGENCY_USCC
            elif "[unknown_column]" in cell.comment.text:
                for r in range(1, sheet.max_row + 1):  # a column the gateway does not read: delete it
                    sheet.cell(r, cell.column).value = None
            cell.comment = None
    wb.remove(listing)


def test_the_marked_sheet_fixed_as_it_says_and_uploaded_again_imports_cleanly(client, agency_with_uscc):
    header, rows = bad_rows()
    for data, ctype in ((csv_bytes(header, rows, "gb18030"), "text/csv"), (two_row_xlsx(rows), XLSX)):
        if ctype == XLSX:  # the workbook keeps the clerk's own layout: two header rows, the typo in row 2
            wb = load_workbook(io.BytesIO(data))
            wb.worksheets[0].cell(2, 15).value, wb.worksheets[0].cell(2, 18).value = header[14], header[17]
            out = io.BytesIO()
            wb.save(out)
            data = out.getvalue()
        marked = load_workbook(io.BytesIO(report(client, data, ctype, accept=XLSX)))
        sheet = marked.worksheets[0]
        first = 2 if ctype == XLSX else 1
        assert marked.sheetnames[-1] == "错误清单"
        bad = {(c.row, c.column) for r in sheet.iter_rows() for c in r if c.comment is not None}
        assert (first, 15) in bad and (first, 18) in bad  # the headers
        assert (first + 2, 8) in bad and (first + 3, 2) in bad and (first + 4, 17) in bad
        assert sheet.cell(first + 3, 2).fill.fgColor.rgb.endswith("FFC7CE")
        assert "是否应为" in sheet.cell(first + 3, 2).comment.text

        _fix_as_it_says(marked)
        fixed = io.BytesIO()
        marked.save(fixed)
        r = client.post("/v1/records:import?agency=MY-AJJ", content=fixed.getvalue(), headers={"content-type": XLSX})
        body = r.json()
        assert body["file_problems"] == [], body["file_problems"]
        assert body["counts"]["rejected"] == 0, body["results"]
        assert body["counts"]["accepted"] + body["counts"]["duplicate"] + body["counts"]["superseded"] == 4


def test_the_cli_writes_the_report_as_csv_or_as_the_marked_sheet(services, agency_with_uscc, tmp_path,
                                                                  monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", services.db.url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path / "keys"))
    header, rows = bad_rows()
    (tmp_path / "bad.csv").write_bytes(csv_bytes(header, rows, "gb18030"))

    assert main(["import", str(tmp_path / "bad.csv"), "--agency", "MY-AJJ", "--report", str(tmp_path / "r.csv"),
                 "--lang", "en"]) == 1
    assert rows_of((tmp_path / "r.csv").read_bytes())[0][:2] == ["row", "column"]
    assert main(["import", str(tmp_path / "bad.csv"), "--agency", "MY-AJJ", "--report",
                 str(tmp_path / "r.xlsx")]) == 1
    marked = load_workbook(tmp_path / "r.xlsx")
    assert marked.sheetnames[-1] == "错误清单" and marked.worksheets[0].cell(4, 2).comment is not None
    assert "rejection report:" in capsys.readouterr().out

    _fix_as_it_says(marked)
    marked.save(tmp_path / "fixed.xlsx")
    assert main(["import", str(tmp_path / "fixed.xlsx"), "--agency", "MY-AJJ"]) == 0, capsys.readouterr()


def test_the_json_answer_has_no_error_for_the_derived_source_record_id_either(client, agency_with_uscc):
    rows = [row_zh(0)]
    rows[0][7] = ""
    r = client.post("/v1/records:import?agency=MY-AJJ", content=csv_bytes(HEADER_ZH, rows),
                    headers={"content-type": "text/csv"})
    assert [p["field"] for p in r.json()["results"][0]["problems"]] == ["data.CF_WSH"]


def test_a_kind_without_a_document_number_still_needs_its_source_record_id(client):
    from tests.factories import make_uscc

    data = f"记录类型,统一社会信用代码,事故发生日期,事故等级,死亡人数\n事故,{make_uscc(5)},2025-03-01,一般,1\n".encode()
    r = client.post("/v1/records:import?agency=MY-AJJ", content=data, headers={"content-type": "text/csv"})
    assert [p["field"] for p in r.json()["results"][0]["problems"]] == ["source_record_id"]


def test_an_xml_upload_gets_the_list_when_a_marked_sheet_is_asked_for(services, agencies, tmp_path, monkeypatch,
                                                                     capsys):
    from pathlib import Path

    monkeypatch.setenv("GATEWAY_DATABASE_URL", services.db.url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path / "keys"))
    xml = Path(__file__).parent / "fixtures" / "records_invalid.xml"
    assert main(["import", str(xml), "--agency", "MY-AJJ", "--report", str(tmp_path / "r.xlsx")]) == 1
    assert not (tmp_path / "r.xlsx").exists()
    assert rows_of((tmp_path / "r.csv").read_bytes())[0][0] == "行号"
    assert f"rejection report: {tmp_path / 'r.csv'}" in capsys.readouterr().out


def test_a_row_of_an_unknown_kind_is_reported_at_its_kind_cell_as_headed(client):
    from tests.factories import make_uscc

    data = f"记录类型,源记录编号,统一社会信用代码\n诉讼,S-1,{make_uscc(6)}\n".encode()
    lines = rows_of(report(client, data))
    assert lines[1][:4] == ["2", "记录类型", "诉讼", "unknown_kind"]
    assert "无法识别的记录类型" in lines[1][4]
