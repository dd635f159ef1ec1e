"""Text a bulletin cannot carry, refused at intake with the field and the position.

Bulletins, records.xsd exports and signed reports are XML 1.0, which has no U+FFFE, U+FFFF,
C0 control characters other than tab, LF and CR, or lone surrogates (JSON can escape one,
``"\\ud800"``). A record holding one was stored, and then no bulletin could be built; now
the record is rejected (`prepare` calls `unsafe_characters` first), each bad field named by
its dotted path with the character and its 1-based position.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gateway.domain.record_fields import FieldProblem
from gateway.xmlsafe import NOT_XML_CHAR

REASON = "not_xml_character"
_MAX_DEPTH = 16  # records are shallow; deeper structure is refused by validation anyway


def unsafe_characters(raw: Any) -> list[FieldProblem]:
    """One problem per text value (or key) of `raw` holding a character XML cannot carry.

    One regular-expression search over all the record's text joined by tabs (an XML
    character) answers the common case; only a hit walks the record to name the fields."""
    texts: list[str] = []
    _collect(raw, texts, 0)
    if not texts or NOT_XML_CHAR.search("\t".join(texts)) is None:
        return []
    return list(_walk(raw, "", 0))


def _collect(value: Any, texts: list[str], depth: int) -> None:
    # a loop per container type (no enumerate for lists): half the time per record, which
    # every row of an upload goes through
    if depth >= _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key.__class__ is str:
                texts.append(key)
            if item.__class__ is str:
                texts.append(item)
            elif isinstance(item, dict | list):
                _collect(item, texts, depth + 1)
    elif isinstance(value, list):
        for item in value:
            if item.__class__ is str:
                texts.append(item)
            elif isinstance(item, dict | list):
                _collect(item, texts, depth + 1)


def _walk(value: Any, path: str, depth: int) -> Iterator[FieldProblem]:
    if value.__class__ is str:
        bad = NOT_XML_CHAR.search(value)
        if bad is not None:
            yield FieldProblem(path, REASON, f"U+{ord(bad.group()):04X} at position {bad.start() + 1} is a "
                               "character no bulletin can carry (XML 1.0); remove it")
        return
    if depth >= _MAX_DEPTH:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            bad = NOT_XML_CHAR.search(name)
            if bad is not None:
                yield FieldProblem(path or "", REASON, f"the field name at U+{ord(bad.group()):04X}, "
                                   f"position {bad.start() + 1}, is not an XML character")
                continue
            yield from _walk(item, f"{path}.{name}" if path else name, depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]", depth + 1)
