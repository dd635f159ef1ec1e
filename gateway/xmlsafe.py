"""The one way the gateway parses XML it did not write (docs/architecture.md §Trust).

Entity resolution, DTD loading and network access are off; a document that declares a
DOCTYPE at all is refused, which stops XXE, external DTDs and entity expansion bombs
("billion laughs") before anything is expanded. Size is bounded by the caller's limit.
"""

from __future__ import annotations

import re
import threading

from lxml import etree

# characters XML 1.0 cannot carry: C0 controls but tab, LF and CR; lone surrogates; U+FFFE/FFFF
NOT_XML_CHAR = re.compile("[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def xml_text(value: object) -> str:
    """`value` as XML text, or ValueError naming the first character XML cannot carry."""
    text = str(value)
    bad = NOT_XML_CHAR.search(text)
    if bad is not None:
        raise ValueError(f"U+{ord(bad.group()):04X} at position {bad.start() + 1} is not an XML character")
    return text


class UnsafeXml(ValueError):
    """The document uses a feature the gateway refuses (DOCTYPE, entities) or is too large."""


class MalformedXml(ValueError):
    """The document is not well-formed XML."""


_DOCTYPE = re.compile(rb"<!doctype", re.IGNORECASE)
_ENTITY = re.compile(rb"<!entity", re.IGNORECASE)
_local = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's parser (an lxml parser may be reused, but not by two threads at once)."""
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_blank_text=False,
        )
    return parser


def parse(data: bytes, max_bytes: int | None = None) -> etree._Element:
    """Parse untrusted bytes into an element; raise UnsafeXml or MalformedXml."""
    if max_bytes is not None and len(data) > max_bytes:
        raise UnsafeXml(f"document of {len(data)} bytes exceeds the limit of {max_bytes}")
    if _DOCTYPE.search(data, 0, 4096) or _ENTITY.search(data):
        raise UnsafeXml("DOCTYPE and entity declarations are not accepted")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise MalformedXml(str(exc)) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("DOCTYPE declarations are not accepted")
    return root
