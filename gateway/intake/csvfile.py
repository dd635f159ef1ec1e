"""CSV as agencies export it from Excel: UTF-8 (with or without BOM), GBK/GB18030, or UTF-16.

Excel on a Chinese Windows saves "CSV" in the ANSI code page (GBK, decoded here as its
superset GB18030), "CSV UTF-8" with a BOM, and "Unicode text" as tab-separated UTF-16LE
with a BOM. The encoding is decided in that order: BOM, strict UTF-8, strict GB18030, and
only then charset-normalizer's guess. The delimiter (comma, tab or semicolon) is the one
the header line uses most.

`rows` is bounded: before the csv module builds a row, the delimiters of the physical lines
it is made of are counted (quoted ones too, a cheap upper bound of its fields), and a row
whose lines hold more than `FIELD_BOUND` times `max_fields` delimiters is refused; the
caller checks the exact field count. A 4 MB header of 2,000,000 columns stops here, before
two million strings exist.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

import charset_normalizer

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_DELIMITERS = (",", "\t", ";")


def decode(data: bytes) -> tuple[str, str]:
    """The text of the file and the encoding it was read with; UnicodeError if none fits."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding), encoding
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    best = charset_normalizer.from_bytes(data).best()
    if best is None:
        raise UnicodeError("the file is in no text encoding the gateway recognises (use UTF-8 or GB18030)")
    return str(best), best.encoding


def delimiter(text: str) -> str:
    """The delimiter the first non-blank line uses most (comma on a tie)."""
    for line in io.StringIO(text):
        if line.strip():
            counts = [line.count(d) for d in _DELIMITERS]
            return _DELIMITERS[counts.index(max(counts))]
    return ","


FIELD_BOUND = 4


class TooManyFields(ValueError):
    def __init__(self, row: int) -> None:
        super().__init__(f"row {row} has too many fields")
        self.row = row


def rows(text: str, max_fields: int | None = None) -> Iterator[tuple[int, list[str]]]:
    """(row number as a spreadsheet shows it, cells) for each record of the file, blanks too.

    Raises TooManyFields (with the row number) when a row's lines hold more delimiters than
    `FIELD_BOUND * max_fields`."""
    sep = delimiter(text)
    if max_fields is None:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=False)
        yield from enumerate(reader, start=1)
        return
    bound = FIELD_BOUND * max_fields
    pending = 0  # delimiters in the lines of the row being read
    number = 1

    def lines() -> Iterator[str]:
        nonlocal pending
        for line in io.StringIO(text, newline=""):
            pending += line.count(sep)
            if pending > bound:
                raise TooManyFields(number)
            yield line

    for row in csv.reader(lines(), delimiter=sep, strict=False):
        yield number, row
        number += 1
        pending = 0
