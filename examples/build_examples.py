"""Regenerate the example import files (run from the repository root):

    .venv/bin/python examples/build_examples.py

Every USCC is built with the real check algorithms (GB 32100-2015 and the GB 11714
organisation-code check character, `gateway.domain.identifiers.uscc.make`). The bad rows are
deliberate: each is rejected at intake with a precise reason (see the demo's rejection
summary). Dates are relative to 2026-11 so that the lists are current when the demo runs.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import Workbook

from gateway.domain.identifiers import uscc

HERE = Path(__file__).resolve().parent


def code(division: str, org8: str, authority: str = "9", category: str = "1") -> str:
    return uscc.make(authority, category, division, org8)


# agencies (机关: authority 1, category 1)
MY_YJJ = code("510700", "00835124", "1", "1")  # 绵阳市应急管理局
FC_YJJ = code("510703", "00840117", "1", "1")  # 绵阳市涪城区应急管理局
SC_YJT = code("510000", "00821836", "1", "1")  # 四川省应急管理厅

# subjects
MINE = code("510705", "MA6A8K2L")  # crosses the joint punishment threshold: 3 fatal accidents in 365 days
CHEM = code("510703", "MA6B1C9X")  # earns the incentive list: all six conditions
GAS = code("510703", "MA6C3D4E")
FIREWORKS = code("510781", "MA6D5E6F")
HAULAGE = code("510704", "MA6E7F8G")
BUILD = code("510100", "MA6F9G0H")
WAREHOUSE = code("510703", "MA6G1H2J")


def bad_check(code_: str) -> str:
    """The same code with a wrong check character (a typing slip the intake must catch)."""
    last = "0" if code_[-1] != "0" else "1"
    return code_[:-1] + last


def penalties_csv() -> bytes:
    header = ["行政相对人名称", "统一社会信用代码", "法定代表人", "行政处罚决定书文号", "违法行为类型", "违法事实",
              "处罚依据", "处罚类别", "处罚内容", "罚款金额（万元）", "处罚决定日期", "处罚机关",
              "处罚机关统一社会信用代码", "严重失信", "备注"]
    rows = [
        ["绵阳市安州区鑫源矿业有限公司", MINE, "王建国", "绵应急罚〔2026〕101号", "违反《安全生产法》",
         "重大事故隐患未整改仍组织作业", "《中华人民共和国安全生产法》第一百零二条", "罚款；责令停产停业整顿",
         "罚款人民币伍拾万元整，责令停产停业整顿", "50", "2026年11月3日", "绵阳市应急管理局", MY_YJJ, "是", ""],
        ["绵阳市涪城区恒达燃气有限公司", GAS, "李明", "绵应急罚〔2026〕102号", "违反《安全生产法》",
         "未按规定对从业人员进行安全生产教育和培训", "《中华人民共和国安全生产法》第九十七条", "罚款",
         "罚款人民币叁万元整", "3", "2026/11/05", "绵阳市应急管理局", MY_YJJ, "否", "首次违法"],
        ["江油市红火烟花爆竹有限公司", FIREWORKS, "赵强", "绵应急罚〔2026〕103号", "违反《烟花爆竹安全管理条例》",
         "超许可范围储存烟花爆竹", "《烟花爆竹安全管理条例》第三十六条", "罚款；没收违法所得",
         "罚款人民币伍万元整，没收违法所得", "5", "2026-11-06", "绵阳市应急管理局", MY_YJJ, "否", ""],
        ["绵阳市游仙区通达运输有限公司", HAULAGE, "孙伟", "绵应急罚〔2026〕104号", "违反《危险化学品安全管理条例》",
         "危险货物运输车辆未按规定安装卫星定位装置", "《危险化学品安全管理条例》第八十条", "罚款",
         "罚款人民币贰万元整", "2", "2026-11-10", "绵阳市应急管理局", MY_YJJ, "否", ""],
        # bad: the USCC's check character is wrong
        ["绵阳市涪城区安顺仓储有限公司", bad_check(WAREHOUSE), "周敏", "绵应急罚〔2026〕105号", "违反《安全生产法》",
         "未建立事故隐患排查治理制度", "《中华人民共和国安全生产法》第九十七条", "罚款",
         "罚款人民币壹万元整", "1", "2026-11-12", "绵阳市应急管理局", MY_YJJ, "否", ""],
        # bad: no decision date, and a fine that is not a number
        ["绵阳市涪城区安顺仓储有限公司", WAREHOUSE, "周敏", "绵应急罚〔2026〕106号", "违反《安全生产法》",
         "未如实记录安全生产教育和培训情况", "《中华人民共和国安全生产法》第九十七条", "罚款",
         "罚款人民币壹万元整", "壹万", "", "绵阳市应急管理局", MY_YJJ, "否", ""],
    ]
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("gb18030")


def licences_xlsx() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "行政许可"
    ws.append(["行政相对人名称", "统一社会信用代码", "法定代表人", "行政许可决定文书名称", "行政许可决定文书号",
               "许可类别", "许可证书名称", "许可编号", "许可内容", "许可决定日期", "有效期自", "有效期至",
               "许可机关", "许可机关统一社会信用代码"])
    ws.append(["绵阳市涪城区恒达燃气有限公司", GAS, "李明", "危险化学品经营许可证", "川绵危化经字〔2026〕0211",
               "普通", "危险化学品经营许可证", "川绵危化经字〔2026〕0211", "危险化学品经营（不带储存）",
               "2026-11-02", "2026-11-02", "2029-11-01", "绵阳市应急管理局", MY_YJJ])
    ws.append(["四川蜀建建设工程有限公司", BUILD, "钱涛", "安全生产许可证", "（川）JZ安许证字〔2026〕003417",
               "普通", "安全生产许可证", "（川）JZ安许证字〔2026〕003417", "建筑施工",
               "2026-11-09", "2026-11-09", "2029-11-08", "四川省应急管理厅", SC_YJT])
    ws.append(["江油市红火烟花爆竹有限公司", FIREWORKS, "赵强", "烟花爆竹经营（批发）许可证", "川绵烟批〔2026〕07",
               "特许", "烟花爆竹经营（批发）许可证", "川绵烟批〔2026〕07", "烟花爆竹批发",
               "2026-11-11", "2026-11-11", "2028-11-10", "绵阳市应急管理局", MY_YJJ])
    # bad: 30 February
    ws.append(["绵阳市涪城区安顺仓储有限公司", WAREHOUSE, "周敏", "危险化学品经营许可证", "川绵危化经字〔2026〕0219",
               "普通", "危险化学品经营许可证", "川绵危化经字〔2026〕0219", "危险化学品经营（带储存）",
               "2026-02-30", "2026-02-30", "2029-02-28", "绵阳市应急管理局", MY_YJJ])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def accidents_xml() -> str:
    def accident(sid: str, subject: str, name: str, on: str, grade: str, deaths: int, desc: str) -> str:
        return f"""  <record kind="accident" sourceRecordId="{sid}" region="510705">
    <subject uscc="{subject}" name="{name}"/>
    <data>
      <occurred_on>{on}</occurred_on>
      <grade>{grade}</grade>
      <deaths>{deaths}</deaths>
      <responsibility>true</responsibility>
      <description>{desc}</description>
      <investigation_ref>绵安委调〔2026〕{sid[-2:]}号</investigation_ref>
    </data>
  </record>
"""

    mine = "绵阳市安州区鑫源矿业有限公司"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!-- 涪城区应急管理局: accident and dishonesty records. The mine has three fatal general\n"
        "     responsibility accidents within 365 days (docs/policy.md §4): the third lists it. -->\n"
        '<records xmlns="urn:safety-credit:records:1">\n'
        + accident("SG-2026-01", MINE, mine, "2026-01-12", "一般", 1, "井下运输巷道冒顶，1人死亡")
        + accident("SG-2026-02", MINE, mine, "2026-05-18", "一般", 2, "提升系统故障，2人死亡")
        + accident("SG-2026-03", MINE, mine, "2026-09-03", "一般", 1, "采掘工作面片帮，1人死亡")
        + f"""  <record kind="violation" sourceRecordId="SX-2026-11" region="510705">
    <subject uscc="{MINE}" name="{mine}"/>
    <data>
      <case>jp06_accident_concealment</case>
      <occurred_on>2026-09-04</occurred_on>
      <evidence_ref>绵安监证〔2026〕0904</evidence_ref>
      <person_role>principal</person_role>
      <person_name>王建国</person_name>
      <description>事故发生后迟报2小时</description>
    </data>
  </record>
  <record kind="integrity_score" sourceRecordId="KP-2025-GAS" region="510703">
    <subject uscc="{GAS}" name="绵阳市涪城区恒达燃气有限公司"/>
    <data><score>82.5</score><year>2025</year></data>
  </record>
  <!-- bad: 特大 is not an accident grade (一般/较大/重大/特别重大) -->
  <record kind="accident" sourceRecordId="SG-2026-99" region="510704">
    <subject uscc="{HAULAGE}" name="绵阳市游仙区通达运输有限公司"/>
    <data>
      <occurred_on>2026-10-21</occurred_on>
      <grade>特大</grade>
      <deaths>0</deaths>
      <injuries>2</injuries>
    </data>
  </record>
</records>
"""
    )


def incentive_json() -> dict:
    chem = {"uscc": CHEM, "name": "绵阳市涪城区华信精细化工有限公司"}
    return {
        "agency": "MY-YJJ",
        "comment": "The chemical company meets all six incentive conditions (docs/policy.md §5): a public commitment "
                   "kept, no dishonesty, no penalty and no fatal accident within 3 years, standardization grade "
                   "一级 still valid, not punished in another field. The last record is deliberately bad.",
        "records": [
            {"kind": "commitment", "source_record_id": "CN-2026-0005", "subject": chem, "region": "510703",
             "data": {"committer_role": "unit", "items": ["严格落实安全生产主体责任", "重大事故隐患动态清零",
                                                          "如实报告生产安全事故"],
                      "committed_on": "2026-01-05", "published_at": "https://yjj.my.gov.cn/cn/2026/0005",
                      "kept": True}},
            {"kind": "standardization_grade", "source_record_id": "BZH-2025-017", "subject": chem,
             "region": "510703",
             "data": {"grade": "一级", "issuer": "四川省应急管理厅", "year": 2025, "awarded_on": "2025-12-20",
                      "valid_until": "2028-12-19"}},
            {"kind": "integrity_score", "source_record_id": "KP-2025-017", "subject": chem, "region": "510703",
             "data": {"score": 96.5, "year": 2025}},
            {"kind": "integrity_report", "source_record_id": "BG-2025-017", "subject": chem, "region": "510703",
             "data": {"year": 2025, "filed_on": "2026-03-15", "summary": "年度安全生产诚信报告：无事故、无处罚"}},
            {"kind": "commitment", "source_record_id": "CN-2026-0006",
             "subject": {"uscc": GAS, "name": "绵阳市涪城区恒达燃气有限公司"}, "region": "510703",
             "data": {"items": ["落实全员安全生产责任制"], "committed_on": "2026-02-01", "kept": True}},
            # bad: not one of the enumerated dishonesty cases
            {"kind": "violation", "source_record_id": "SX-2026-12",
             "subject": {"uscc": HAULAGE, "name": "绵阳市游仙区通达运输有限公司"}, "region": "510704",
             "data": {"case": "late_paperwork", "occurred_on": "2026-10-30", "evidence_ref": "绵安监证〔2026〕1030"}},
        ],
    }


def main() -> None:
    (HERE / "penalties_gb18030.csv").write_bytes(penalties_csv())
    (HERE / "licences.xlsx").write_bytes(licences_xlsx())
    (HERE / "accidents_fucheng.xml").write_text(accidents_xml(), encoding="utf-8")
    (HERE / "incentive_records.json").write_text(json.dumps(incentive_json(), ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
    print("subjects:", {"mine": MINE, "chem": CHEM, "gas": GAS, "fireworks": FIREWORKS, "haulage": HAULAGE,
                        "build": BUILD, "warehouse": WAREHOUSE})
    print("agencies:", {"MY-YJJ": MY_YJJ, "FC-YJJ": FC_YJJ, "SC-YJT": SC_YJT})


if __name__ == "__main__":
    main()
