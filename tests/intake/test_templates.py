"""Import templates (`GET /v1/templates/{kind}.xlsx`, `gateway template KIND`): the official headers,
drop-down lists for the coded columns and an example row; filled in as the example shows, the
template imports as is."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from gateway.cli import main
from gateway.domain.records import RecordKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _template(client, kind: str):  # noqa: ANN202
    r = client.get(f"/v1/templates/{kind}.xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX
    return load_workbook(io.BytesIO(r.content))


def _validations(sheet) -> dict[str, list[str]]:  # noqa: ANN001
    lists = sheet.parent["代码表"]
    out = {}
    for rule in sheet.data_validations.dataValidation:
        ref = rule.formula1.split("!")[1].replace("$", "")
        column = sheet.cell(1, next(iter(rule.sqref.ranges)).min_col).value
        out[column] = [c.value for row in lists[ref] for c in row]
    return out


def test_the_penalty_template_has_the_official_headers_drop_downs_and_an_example(client):
    wb = _template(client, "penalty")
    sheet = wb["行政处罚"]
    headers = [c.value for c in sheet[1]]
    assert headers[:3] == ["*行政相对人名称(CF_XDR_MC)", "行政相对人类别(CF_XDR_LB)", "统一社会信用代码(CF_XDR_SHXYM)"]
    assert "*行政处罚决定书文号(CF_WSH)" in headers and "*违法事实(CF_SY)" in headers
    lists = _validations(sheet)
    assert "罚款" in lists["*处罚类别(CF_CFLB)"] and "责令停产停业" in lists["*处罚类别(CF_CFLB)"]
    assert lists["行政相对人类别(CF_XDR_LB)"] == ["法人及非法人组织", "自然人", "个体工商户"]
    assert lists["严重失信(serious)"] == ["是", "否"]
    assert wb["代码表"].sheet_state == "hidden"
    assert [c.value for c in wb["示例"][1]] == headers and wb["示例"]["A2"].value == "绵阳市某化工有限公司"
    assert "必填" in sheet["A1"].comment.text


def test_the_licence_template_lists_the_licence_categories(client):
    lists = _validations(_template(client, "licence")["行政许可"])
    assert lists["*许可类别(XK_XKLB)"] == ["普通", "特许", "认可", "核准", "登记", "其他"]


@pytest.mark.parametrize("kind", [k.value for k in RecordKind])
def test_every_template_filled_in_as_its_example_imports_as_is(client, kind):
    wb = _template(client, kind)
    sheet, example = wb.worksheets[0], wb["示例"]
    for cell in example[2]:
        sheet.cell(2, cell.column, cell.value)
    out = io.BytesIO()
    wb.save(out)

    r = client.post("/v1/records:import?agency=MY-AJJ", content=out.getvalue(), headers={"content-type": XLSX})
    body = r.json()
    assert body["file_problems"] == [] and body["counts"]["accepted"] == 1, body


def test_an_unknown_kind_has_no_template(client):
    r = client.get("/v1/templates/lawsuit.xlsx")
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")


def test_the_cli_writes_the_same_template(tmp_path, capsys):
    assert main(["template", "行政处罚", "--out", str(tmp_path / "p.xlsx")]) == 0
    assert load_workbook(tmp_path / "p.xlsx")["行政处罚"]["A1"].value == "*行政相对人名称(CF_XDR_MC)"
    assert main(["template", "lawsuit", "--out", str(tmp_path / "x.xlsx")]) == 2
    assert "unknown record kind" in capsys.readouterr().err and not (tmp_path / "x.xlsx").exists()
