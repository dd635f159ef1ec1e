"""XML import: the record-exchange schema, schema errors by record, and refused attacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.domain.records import (
    FORMER_NAMES,
    KIND_MODELS,
    PersonRole,
    RecordKind,
    ViolationCase,
    validate_data,
)
from gateway.intake import xmlfile
from gateway.intake.files import FileUnreadable, parse_file
from gateway.xmlsafe import MalformedXml, UnsafeXml

FIXTURES = Path(__file__).parent / "fixtures"
XS = "{http://www.w3.org/2001/XMLSchema}"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_valid_xml_becomes_records_in_document_order() -> None:
    parsed = parse_file(fixture("records_valid.xml"), "records.xml", "application/xml")

    assert parsed.format == "xml"
    assert parsed.encoding == "UTF-8"
    assert parsed.problems == []
    assert [(r.row, r.record["kind"], r.record["action"]) for r in parsed.records] == [
        (1, "penalty", "publish"),
        (2, "accident", "publish"),
        (3, "commitment", "publish"),
        (4, "penalty", "withdraw"),
    ]
    penalty, accident, commitment, withdrawal = (r.record for r in parsed.records)
    assert penalty["source_record_id"] == "杭应急罚〔2025〕12号"  # from CF_WSH
    assert penalty["subject"]["uscc"] == "91330106MA2B1C2D8U"  # from CF_XDR_SHXYM
    assert penalty["subject"]["name"] == "杭州某某化工有限公司"
    assert penalty["data"]["CF_NR_FK"] == "3"
    assert penalty["data"]["serious"] is False
    assert accident["region"] == "330106"
    assert accident["data"] == {
        "occurred_on": "2025-02-14",
        "grade": "较大",
        "deaths": 3,
        "injuries": 2,
        "egregious": True,
    }
    assert commitment["data"]["items"] == ["严格落实安全生产主体责任", "及时排查治理事故隐患"]
    assert withdrawal["data"] == {}
    assert withdrawal["reason"] == "处罚决定已被行政复议撤销"
    for record in (penalty, accident, commitment):
        validate_data(record["kind"], record["data"])


def test_schema_errors_name_the_record_the_field_and_the_line_and_spare_the_good_records() -> None:
    parsed = parse_file(fixture("records_invalid.xml"), "records.xml", None)

    assert [r.row for r in parsed.records] == [1]
    assert [(p.row, p.field, p.reason) for p in parsed.problems] == [
        (2, "data.occurred_on", "schema_invalid"),
        (2, "data.casualties", "schema_invalid"),
        (3, "kind", "schema_invalid"),
    ]
    assert parsed.problems[0].message.startswith("line 13: ")
    assert "2025-02-30x" in parsed.problems[0].message
    assert parsed.problems[2].message.startswith("line 19: ")
    assert "{urn:" not in parsed.problems[1].message


def test_a_document_that_is_not_a_records_document_is_one_problem_at_row_0() -> None:
    parsed = parse_file(b'<bulletin xmlns="urn:other"><record kind="penalty"/></bulletin>', "a.xml", None)

    assert parsed.records == []
    assert [(p.row, p.reason) for p in parsed.problems] == [(0, "schema_invalid")]


def test_gb18030_declared_xml_is_read() -> None:
    text = (
        '<?xml version="1.0" encoding="GB18030"?>\n'
        '<records xmlns="urn:safety-credit:records:1">'
        '<record kind="integrity_score" sourceRecordId="KP-1"><subject uscc="91330106MA2B1C2D8U" name="某公司"/>'
        "<data><score>86.5</score><veto_items><item>瞒报事故</item></veto_items><year>2024</year></data>"
        "</record></records>"
    )
    parsed = parse_file(text.encode("gb18030"), None, None)

    assert parsed.encoding == "GB18030"
    assert parsed.records[0].record["subject"]["name"] == "某公司"
    assert parsed.records[0].record["data"] == {"score": "86.5", "veto_items": ["瞒报事故"], "year": 2024}


def test_xxe_is_refused() -> None:
    with pytest.raises(UnsafeXml):
        parse_file(fixture("xxe.xml"), "records.xml", None)


def test_billion_laughs_is_refused() -> None:
    with pytest.raises(UnsafeXml):
        parse_file(fixture("billion_laughs.xml"), "records.xml", None)


def test_external_dtd_is_refused() -> None:
    with pytest.raises(UnsafeXml):
        parse_file(fixture("external_dtd.xml"), "records.xml", None)


@pytest.mark.parametrize("name", ["xxe.xml", "billion_laughs.xml", "external_dtd.xml"])
def test_attacks_re_encoded_as_utf16_are_refused_too(name: str) -> None:
    text = fixture(name).decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    # The byte-level DOCTYPE check cannot see UTF-16; libxml2 then refuses the entities itself.
    with pytest.raises((UnsafeXml, FileUnreadable)):
        parse_file(text.encode("utf-16"), "records.xml", None)


def test_malformed_xml_is_unreadable_and_is_xmlsafe_malformed_xml() -> None:
    with pytest.raises(FileUnreadable) as err:
        parse_file(b'<records xmlns="urn:safety-credit:records:1"><record kind="penalty">', "a.xml", None)
    assert err.value.reason == "malformed_xml"
    assert isinstance(err.value, MalformedXml)


def test_more_records_than_max_rows_refuse_the_file() -> None:
    body = '<record kind="integrity_report" sourceRecordId="X"/>' * 3
    with pytest.raises(FileUnreadable) as err:
        parse_file(
            f'<records xmlns="urn:safety-credit:records:1">{body}</records>'.encode(), None, None, max_rows=2
        )
    assert err.value.reason == "too_many_rows"


def _schema() -> etree._Element:
    return etree.parse(str(xmlfile.SCHEMA_PATH)).getroot()


def _enumeration(schema: etree._Element, name: str) -> set[str]:
    return {e.get("value") for e in schema.iterfind(f"{XS}simpleType[@name='{name}']//{XS}enumeration")}


def test_schema_data_elements_are_exactly_the_fields_of_the_record_kinds() -> None:
    schema = _schema()
    declared = {e.get("name") for e in schema.iterfind(f"{XS}complexType[@name='Data']/{XS}all/{XS}element")}

    former = {name for names in FORMER_NAMES.values() for name in names}  # still accepted, stored renamed
    assert declared == {name for model in KIND_MODELS.values() for name in model.model_fields} | former


def test_schema_code_lists_match_the_domain() -> None:
    schema = _schema()

    assert _enumeration(schema, "Kind") == {k.value for k in RecordKind}
    assert _enumeration(schema, "ViolationCase") == {c.value for c in ViolationCase}
    assert _enumeration(schema, "PersonRole") == {r.value for r in PersonRole}
