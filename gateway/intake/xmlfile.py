"""XML record files (``schemas/xsd/records.xsd``, namespace ``urn:safety-credit:records:1``).

The document is parsed with `gateway.xmlsafe.parse` (no DOCTYPE, no entities, no network;
`UnsafeXml` propagates) and validated against the schema, loaded once. Each schema error
becomes a problem of the record it lies in (row = the record's 1-based position; 0 for
errors outside any record) with its line number in the message; a record with an error
is not passed on, the others are. Field values go through the same cell rules as CSV and
XLSX, so the record dicts look the same whichever format an agency used.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from lxml import etree

from gateway import xmlsafe
from gateway.intake.columns import FIELD_TYPES, Problem, assemble, coercer
from gateway.paths import XSD

NS = "urn:safety-credit:records:1"
SCHEMA_PATH = XSD / "records.xsd"
_RECORD = f"{{{NS}}}record"
_ATTRIBUTES = {"kind": "kind", "sourceRecordId": "source_record_id", "action": "action", "region": "region"}
_SUBJECT_ATTRIBUTES = {
    "uscc": "uscc",
    "name": "name",
    "orgCode": "org_code",
    "regNo": "reg_no",
    "idNumber": "id_number",
}
_ATTRIBUTE_IN_MESSAGE = re.compile(r"attribute '([^']+)'")
_NAMESPACED = re.compile(r"\{" + re.escape(NS) + r"\}")


class TooManyRecords(ValueError):
    pass


@cache
def schema() -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))


def parse(
    data: bytes, max_records: int
) -> tuple[list[tuple[int, dict[str, Any]]], list[Problem], str | None]:
    """(row, record) pairs, problems, and the document's encoding.

    Raises xmlsafe.UnsafeXml, xmlsafe.MalformedXml and TooManyRecords.
    """
    root = xmlsafe.parse(data)
    encoding = root.getroottree().docinfo.encoding
    # lxml keeps one proxy per node while it is referenced, so elements can key the map.
    positions = {el: n for n, el in enumerate(root.iterchildren(_RECORD), start=1)}
    if len(positions) > max_records:
        raise TooManyRecords(f"the file has more than {max_records} records; split it")
    xsd = schema()
    problems: list[Problem] = []
    bad: set[int] = set()
    if not xsd.validate(root):
        tree = root.getroottree()
        for error in xsd.error_log:
            row, field = _locate(tree, error, positions)
            bad.add(row)
            message = _NAMESPACED.sub("", error.message)
            problems.append((row, field, "schema_invalid", f"line {error.line}: {message}"))
    if 0 in bad:  # the document itself is not a records document
        return [], problems, encoding
    records = [(n, _record(el)) for el, n in positions.items() if n not in bad]
    return records, problems, encoding


def _locate(tree: etree._ElementTree, error: Any, positions: dict[etree._Element, int]) -> tuple[int, str]:
    """The record (position) and field an error is about."""
    found = tree.xpath(error.path) if error.path else []
    element = found[0] if found and isinstance(found[0], etree._Element) else None
    chain = []
    while element is not None and element not in positions:
        chain.append(element)
        element = element.getparent()
    if element is None:
        return 0, ""
    attribute = _ATTRIBUTE_IN_MESSAGE.search(error.message)
    names = [etree.QName(el).localname for el in reversed(chain)]
    if not names:
        return positions[element], _ATTRIBUTES.get(attribute[1], attribute[1]) if attribute else ""
    if names[0] == "subject" and attribute:
        return positions[element], "subject." + _SUBJECT_ATTRIBUTES.get(attribute[1], attribute[1])
    return positions[element], ".".join(names[:2])


def _record(el: etree._Element) -> dict[str, Any]:
    kind = el.get("kind", "").strip()
    top: dict[str, Any] = {}
    for attribute, name in _ATTRIBUTES.items():
        if name != "kind" and (value := _strip(el.get(attribute))) is not None:
            top[name] = value
    top.setdefault("action", "publish")
    subject: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for child in el.iterchildren(etree.Element):
        name = etree.QName(child).localname
        if name == "subject":
            for attribute, k in _SUBJECT_ATTRIBUTES.items():
                if (value := _strip(child.get(attribute))) is not None:
                    subject[k] = value
        elif name == "reason":
            if (value := _strip(child.text)) is not None:
                top["reason"] = value
        elif name == "data":
            for field in child.iterchildren(etree.Element):
                fname = etree.QName(field).localname
                if fname == "responsible_persons":  # <person role= name= idNumber=/>
                    data[fname] = [{"role": p.get("role"), "name": p.get("name"), "id_number": p.get("idNumber")}
                                   for p in field.iterchildren(etree.Element)]
                elif FIELD_TYPES[kind].get(fname) == "list" or len(field):
                    items = [t for item in field.iterchildren(etree.Element) if (t := _strip(item.text))]
                    if items:
                        data[fname] = items
                elif (value := _strip(field.text)) is not None:
                    data[fname] = coercer(kind, fname)(value)
    return assemble(kind, top, subject, data)


def _strip(value: str | None) -> str | None:
    return (value.strip() or None) if value is not None else None
