"""How much of an imported file the gateway reads before it refuses the file.

An agency's file is untrusted input: a 584 KB workbook can unpack to one row of 20 million
cells, a 1 MB one to a 1 GiB string. Every reader stops at the first limit it reaches and
raises `LimitExceeded` (a `FileUnreadable`), which the API answers with a 4xx problem of a
stable type (`gateway.api.records`) and the CLI with one line and exit status 2. Each limit
is a setting (`gateway.config`, `GATEWAY_INTAKE_*`); `ReadLimits.from_settings` collects them.

The readers also call `gateway.deadlines.check` every `CHECK_EVERY` rows, so a request that
has reached its timeout stops reading (its client already has the 503).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway import deadlines

CHECK_EVERY = 1_000  # rows between two looks at the request's deadline
MIB = 1024 * 1024


class FileUnreadable(ValueError):
    """The file as a whole cannot be read: reason is one of empty_file, too_many_rows,
    too_many_columns, cell_too_long, archive_too_large, compression_ratio, unknown_encoding,
    malformed_csv, malformed_xlsx, malformed_xml, unsupported_format."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class LimitExceeded(FileUnreadable):
    """A reading limit was reached; `setting` names the setting that holds it."""

    def __init__(self, reason: str, message: str, setting: str, limit: int | float) -> None:
        super().__init__(reason, message)
        self.setting = setting
        self.limit = limit


@dataclass(frozen=True)
class ReadLimits:
    max_rows: int = 100_000  # rows after the header, blank ones included
    max_columns: int = 1_000  # cells in one row (CSV fields, XLSX cells, the header too)
    max_cell_chars: int = 32_767  # characters in one cell or shared string (Excel's own cap)
    xlsx_max_uncompressed_bytes: int = 64 * MIB  # all parts of the workbook, unpacked
    xlsx_max_compression_ratio: float = 100.0  # unpacked / packed size of one part above 1 MiB
    xlsx_max_part_bytes: int = 16 * MIB  # one part other than a sheet or the shared strings

    @classmethod
    def from_settings(cls, settings: Any) -> ReadLimits:
        return cls(
            max_rows=settings.intake_max_rows,
            max_columns=settings.intake_max_columns,
            max_cell_chars=settings.intake_max_cell_chars,
            xlsx_max_uncompressed_bytes=settings.intake_xlsx_max_uncompressed_bytes,
            xlsx_max_compression_ratio=settings.intake_xlsx_max_compression_ratio,
        )

    def too_many_rows(self) -> LimitExceeded:
        return LimitExceeded("too_many_rows", f"the file has more than {self.max_rows:,} rows after the header "
                             "(blank rows count); split it", "GATEWAY_INTAKE_MAX_ROWS", self.max_rows)

    def too_many_columns(self, row: int) -> LimitExceeded:
        return LimitExceeded("too_many_columns", f"row {row} has more than {self.max_columns:,} cells",
                             "GATEWAY_INTAKE_MAX_COLUMNS", self.max_columns)

    def cell_too_long(self, where: str) -> LimitExceeded:
        return LimitExceeded("cell_too_long", f"{where} holds more than {self.max_cell_chars:,} characters",
                             "GATEWAY_INTAKE_MAX_CELL_CHARS", self.max_cell_chars)


def check_deadline(row: int) -> None:
    """Stop reading (RequestTimeout) when the request being served has reached its timeout."""
    deadlines.check(f"reading stopped at row {row:,}; nothing of the file was stored")
