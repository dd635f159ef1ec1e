"""File import through the API: GB18030 CSV, XML against records.xsd, hostile XML, rejection report."""

from __future__ import annotations

import csv
import io

from tests.factories import make_uscc

A = make_uscc(31)
B = make_uscc(32)

HEADER = "行政相对人名称,统一社会信用代码,行政处罚决定书文号,违法行为类型,违法事实,处罚依据,处罚类别,处罚内容,罚款金额（万元）,处罚决定日期,处罚机关,处罚机关统一社会信用代码"


def _row(name: str, code: str, doc: str, date: str) -> str:
    return f"{name},{code},{doc},未按规定培训,未培训从业人员,安全生产法第九十七条,罚款,罚款贰万元,2,{date},绵阳市应急管理局,11510700MB12345623"


def _csv(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("gb18030")


def test_a_gb18030_csv_with_chinese_headers_is_imported(client):
    data = _csv(_row("绵阳市甲化工有限公司", A, "绵应急罚〔2025〕1号", "2025-05-20"),
                _row("绵阳市乙燃气有限公司", B, "绵应急罚〔2025〕2号", "2025/5/21"))
    r = client.post("/v1/records:import?agency=MY-AJJ", content=data, headers={"content-type": "text/csv"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["format"] == "csv" and body["encoding"].lower().replace("-", "") in ("gb18030", "gbk")
    assert body["counts"]["accepted"] == 2
    assert [x["row"] for x in body["results"]] == [2, 3]
    penalty = client.get(f"/v1/subjects/{A}").json()["records"]["penalty"][0]
    assert penalty["source_record_id"] == "绵应急罚〔2025〕1号"


def test_bad_rows_come_back_as_a_rejection_report_the_agency_can_fix(client):
    bad = A[:-1] + ("0" if A[-1] != "0" else "1")
    data = _csv(_row("甲公司", A, "doc-1", "2025-05-20"), _row("乙公司", bad, "doc-2", "2025-02-30"))
    r = client.post("/v1/records:import?agency=MY-AJJ", content=data,
                    headers={"content-type": "text/csv", "accept": "text/csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["行号", "列", "错误值", "原因代码", "说明", "建议"]
    fields = {(row[0], row[1], row[2], row[3]) for row in rows[1:]}
    assert ("3", "统一社会信用代码", bad, "invalid_checksum") in fields
    assert ("3", "处罚决定日期", "2025-02-30", "bad_date") in fields
    assert not any(row[0] == "2" for row in rows[1:])


def test_an_xml_file_valid_against_records_xsd_is_imported(client):
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<records xmlns="urn:safety-credit:records:1">
  <record kind="accident" sourceRecordId="SG-1">
    <subject uscc="{A}" name="绵阳市甲矿业有限公司"/>
    <data><occurred_on>2025-03-01</occurred_on><grade>general</grade><deaths>1</deaths></data>
  </record>
</records>""".encode()
    r = client.post("/v1/records:import?agency=MY-AJJ", content=xml, headers={"content-type": "application/xml"})
    assert r.status_code == 200, r.text
    assert r.json()["counts"]["accepted"] == 1


def test_xxe_billion_laughs_and_external_dtds_are_refused_with_4xx(client, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    attacks = [
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret}">]><records xmlns="urn:safety-credit:records:1">&x;</records>',
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><records xmlns="urn:safety-credit:records:1">&c;</records>',
        '<?xml version="1.0"?><!DOCTYPE records SYSTEM "http://127.0.0.1:9/evil.dtd"><records xmlns="urn:safety-credit:records:1"/>',
    ]
    for attack in attacks:
        r = client.post("/v1/records:import?agency=MY-AJJ", content=attack.encode(),
                        headers={"content-type": "application/xml"})
        assert 400 <= r.status_code < 500, (attack, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert "TOP-SECRET" not in r.text


def test_an_empty_or_unreadable_file_is_a_problem_not_a_crash(client):
    assert client.post("/v1/records:import?agency=MY-AJJ", content=b"",
                       headers={"content-type": "text/csv"}).status_code == 400
    r = client.post("/v1/records:import?agency=MY-AJJ", content=b"PK\x03\x04garbage",
                    headers={"content-type": "application/octet-stream"})
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/problem+json")
