"""The one way the gateway parses XML it did not write (DESIGN.md §Trust).

Entity resolution, DTD loading and network access are off; a document that declares a
DOCTYPE at all is refused, which stops XXE, external DTDs and entity expansion bombs
("billion laughs") before anything is expanded. Size is bounded by the caller's limit.
"""

from __future__ import annotations

from lxml import etree


class UnsafeXml(ValueError):
    """The document uses a feature the gateway refuses (DOCTYPE, entities) or is too large."""


class MalformedXml(ValueError):
    """The document is not well-formed XML."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse(data: bytes, max_bytes: int | None = None) -> etree._Element:
    """Parse untrusted bytes into an element; raise UnsafeXml or MalformedXml."""
    if max_bytes is not None and len(data) > max_bytes:
        raise UnsafeXml(f"document of {len(data)} bytes exceeds the limit of {max_bytes}")
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise UnsafeXml("DOCTYPE and entity declarations are not accepted")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXml(str(exc)) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("DOCTYPE declarations are not accepted")
    return root
