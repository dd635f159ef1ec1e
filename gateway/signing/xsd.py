"""The shipped XML schemas (`schemas/xsd/`), compiled once per process.

Schemas are our own files, but they are still read with network access and entity
resolution off; imports resolve by relative `schemaLocation` inside `schemas/xsd/` (the W3C
XML-DSig core schema ships there, so nothing is fetched).
"""

from __future__ import annotations

import threading
from functools import cache

from lxml import etree

from gateway.paths import XSD

BULLETIN = "bulletin.xsd"
RECEIPT = "receipt.xsd"

_lock = threading.Lock()


@cache
def _compiled(name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(XSD / name), parser=parser))


def schema(name: str) -> etree.XMLSchema:
    """The compiled schema `schemas/xsd/<name>` (validation itself is not thread-safe: see `validate`)."""
    with _lock:
        return _compiled(name)


def validate(name: str, root: etree._Element) -> list[str]:
    """Validate; return the problems as 'line N: message' strings (empty when valid)."""
    compiled = schema(name)
    with _lock:  # an XMLSchema keeps its error log on the object
        if compiled.validate(root):
            return []
        return [f"line {e.line}: {e.message}" for e in compiled.error_log]
