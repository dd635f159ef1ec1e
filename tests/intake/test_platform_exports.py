"""Real agency exports import with the right outcome per row, by the HTTP API and by the CLI:
the 2021 standard's codes (CF_WSH, CF_SY), the 2016 template's codes, a GB18030 CSV headed in
Chinese with 行政相对人代码_1…_6, and an XLSX whose header spans two merged rows."""

from __future__ import annotations

import io

from openpyxl import Workbook

from gateway.cli import main
from tests.factories import make_uscc
from tests.intake.conftest import AGENCY_USCC

CODES = [make_uscc(700 + i) for i in range(8)]

HEADER_2021 = ["CF_XDR_MC", "CF_XDR_SHXYM", "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK",
               "CF_JDRQ", "CF_CFJG", "CF_CFJGDM"]
HEADER_2016 = ["CF_WSH", "CF_CFMC", "CF_CFLB1", "CF_CFLB2", "CF_SY", "CF_YJ", "CF_XDR_MC", "CF_XDR_SHXYM",
               "CF_XDR_ZDM", "CF_XDR_GSDJ", "CF_XDR_SWDJ", "CF_XDR_SFZ", "CF_FR", "CF_JG", "CF_JDRQ", "CF_XZJG",
               "CF_ZT", "DFBM", "SJC", "BZ"]
HEADER_ZH = ["行政相对人名称", "行政相对人代码_1(统一社会信用代码)", "行政相对人代码_2(工商注册号)",
             "行政相对人代码_3(组织机构代码)", "行政相对人代码_4(税务登记号)", "行政相对人代码_5(事业单位证书号)",
             "行政相对人代码_6(社会组织登记证号)", "行政处罚决定书文号", "违法行为类型", "违法事实", "处罚依据",
             "处罚类别", "处罚内容", "罚款金额(万元)", "处罚决定日期", "处罚机关", "处罚机关统一社会信用代码"]


def row_2021(i: int, date: str = "2025-05-20", issuer: str = AGENCY_USCC) -> list[str]:
    return [f"绵阳市{i}号化工有限公司", CODES[i], f"绵应急罚〔2025〕{i}号", "未按规定开展安全培训", "未对从业人员进行培训",
            "《安全生产法》第九十七条", "罚款", "罚款贰万元", "2", date, "绵阳市应急管理局", issuer]


def row_2016(i: int, status: str = "0") -> list[str]:
    return [f"绵应急罚〔2016〕{i}号", "未按规定开展安全培训案", "罚款", "警告", "未对从业人员进行培训",
            "《安全生产法》第九十四条", f"绵阳市{i}号化工有限公司", CODES[i], "", "", f"91510703{i:010d}", "",
            "王某", "罚款贰万元并警告", "2016-07-01", "绵阳市应急管理局", status, "510703", "2016-07-02 10:00:00", ""]


def row_zh(i: int) -> list[str]:
    return [f"绵阳市{i}号矿业有限公司", CODES[i], "", "", f"91510703{i:010d}", "", "", f"绵应急罚〔2025〕{i}号",
            "未按规定开展隐患排查", "未建立隐患排查治理制度", "《安全生产法》第一百零一条", "罚款", "罚款叁万元", "3",
            "2025年5月21日", "绵阳市应急管理局", AGENCY_USCC]


def csv_bytes(header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    return "\r\n".join(",".join(r) for r in [header, *rows]).encode(encoding) + b"\r\n"


def two_row_xlsx(rows: list[list[str]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "行政处罚"
    ws.append(["行政相对人信息", None, None, None, None, None, None, "处罚信息"] + [None] * 9)
    ws.merge_cells("A1:G1")
    ws.merge_cells("H1:Q1")
    ws.append(HEADER_ZH)
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def upload(client, data: bytes, ctype: str = "text/csv", **params):  # noqa: ANN201
    query = "&".join(f"{k}={v}" for k, v in {"agency": "MY-AJJ", **params}.items())
    r = client.post(f"/v1/records:import?{query}", content=data, headers={"content-type": ctype})
    assert r.status_code == 200, r.text
    return r.json()


def outcomes(body: dict) -> dict[int, str]:
    return {r["row"]: r["outcome"] for r in body["results"]}


def test_a_2021_standard_export_with_cf_wsh_and_cf_sy_imports_each_row_right(client, agency_with_uscc):
    rows = [row_2021(i) for i in range(5)] + [row_2021(5, date="2025-02-30")]
    body = upload(client, csv_bytes(HEADER_2021, rows, "gb18030"))

    assert body["file_problems"] == []
    assert outcomes(body) == {2: "accepted", 3: "accepted", 4: "accepted", 5: "accepted", 6: "accepted",
                              7: "rejected"}
    assert [p["field"] for p in body["results"][5]["problems"]] == ["data.CF_JDRQ"]
    record = client.get(f"/v1/records/{body['results'][0]['record_id']}").json()["versions"][0]
    assert record["data"]["CF_WSH"] == "绵应急罚〔2025〕0号" and record["data"]["CF_SY"] == "未对从业人员进行培训"
    assert record["source_record_id"] == "绵应急罚〔2025〕0号"


def test_a_2016_template_export_imports_and_its_status_column_withdraws(client, agency_with_uscc):
    body = upload(client, csv_bytes(HEADER_2016, [row_2016(i) for i in range(3)], "gb18030"))

    assert body["file_problems"] == [] and set(outcomes(body).values()) == {"accepted"}, body
    data = client.get(f"/v1/records/{body['results'][0]['record_id']}").json()["versions"][0]["data"]
    assert data["CF_CFLB"] == "罚款；警告"  # 处罚类别1 and 2 joined
    assert data["CF_WFXW"] == "未按规定开展安全培训案" and data["CF_NR"] == "罚款贰万元并警告"
    assert data["CF_CFJG"] == "绵阳市应急管理局" and data["CF_FRDB"] == "王某"
    assert data["CF_CFJGDM"] == AGENCY_USCC  # the 2016 template has no code column: the agency's own
    assert data["CF_XDR_SWDJ"] == "915107030000000000"

    again = upload(client, csv_bytes(HEADER_2016, [row_2016(0), row_2016(1, status="1")], "gb18030"))
    assert outcomes(again) == {2: "duplicate", 3: "accepted"}
    assert again["results"][1]["status"] == "withdrawn"


def test_a_2016_licence_export_takes_its_validity_start_from_the_decision_date(client, agency_with_uscc):
    header = ["XK_WSH", "XK_XMMC", "XK_SPLB", "XK_NR", "XK_XDR", "XK_XDR_SHXYM", "XK_FR", "XK_JDRQ", "XK_JZQ",
              "XK_XZJG", "XK_ZT", "DFBM", "SJC"]
    row = ["川绵危化经字〔2016〕1", "危险化学品经营许可", "普通", "危险化学品经营（不带储存）", "绵阳市某燃气有限公司",
           CODES[6], "李某", "2016-05-03", "2019-05-02", "绵阳市应急管理局", "0", "510703", "2016-05-04"]
    body = upload(client, csv_bytes(header, [row]))

    assert body["file_problems"] == [] and outcomes(body) == {2: "accepted"}, body
    data = client.get(f"/v1/records/{body['results'][0]['record_id']}").json()["versions"][0]["data"]
    assert data["XK_YXQZ"] == "2016-05-03" and data["XK_YXQZI"] == "2019-05-02"
    assert data["XK_XKJGDM"] == AGENCY_USCC and data["XK_XKLB"] == "普通"


def test_a_gb18030_csv_and_a_two_row_merged_header_xlsx_import_the_same_records(client, agency_with_uscc):
    rows = [row_zh(i) for i in range(3)]
    body = upload(client, csv_bytes(HEADER_ZH, rows, "gb18030"))
    assert body["encoding"] == "gb18030" and body["file_problems"] == []
    assert set(outcomes(body).values()) == {"accepted"}, body

    xlsx = upload(client, two_row_xlsx(rows),
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert xlsx["file_problems"] == [], xlsx
    assert outcomes(xlsx) == {3: "duplicate", 4: "duplicate", 5: "duplicate"}  # rows as the sheet numbers them
    data = client.get(f"/v1/records/{body['results'][0]['record_id']}").json()["versions"][0]["data"]
    assert data["CF_XDR_SWDJ"] == "915107030000000000" and data["CF_JDRQ"] == "2025-05-21"


def test_the_cli_imports_the_same_exports(services, agency_with_uscc, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GATEWAY_DATABASE_URL", services.db.url)
    monkeypatch.setenv("GATEWAY_KEYS_DIR", str(tmp_path / "keys"))
    files = {"2021.csv": csv_bytes(HEADER_2021, [row_2021(0), row_2021(1)], "gb18030"),
             "2016.csv": csv_bytes(HEADER_2016, [row_2016(2), row_2016(3)], "gb18030"),
             "merged.xlsx": two_row_xlsx([row_zh(4)])}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        assert main(["import", str(tmp_path / name), "--agency", "MY-AJJ"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "2021.csv: csv (gb18030), accepted 2" in out
    assert "2016.csv: csv (gb18030), accepted 2" in out
    assert "merged.xlsx: xlsx, accepted 1" in out
