"""File import: parse (CSV/XLSX/XML) → submit as one batch → outcomes per file row.

Used by `POST /v1/records:import` and `gateway import FILE`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway import deadlines
from gateway.errors import RequestTimeout
from gateway.intake.files import parse_file, write_rejection_report
from gateway.intake.limits import ReadLimits
from gateway.intake.service import IntakeService

log = logging.getLogger("gateway.intake")


@dataclass
class ImportResult:
    batch_id: str
    format: str
    encoding: str | None
    results: list[dict[str, Any]]
    file_problems: list[dict[str, Any]]

    def counts(self) -> dict[str, int]:
        counts = {"accepted": 0, "duplicate": 0, "superseded": 0, "rejected": 0}
        for r in self.results:
            counts[r["outcome"]] += 1
        counts["file_problems"] = len(self.file_problems)
        return counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "format": self.format,
            "encoding": self.encoding,
            "counts": self.counts(),
            "results": self.results,
            "file_problems": self.file_problems,
        }

    def rejection_rows(self) -> list[tuple[int, str, str, str]]:
        rows = [(p["row"], p["field"], p["reason"], p["message"]) for p in self.file_problems]
        for r in self.results:
            for p in r.get("problems", []):
                rows.append(
                    (
                        r["row"],
                        p["field"],
                        p["reason"],
                        p["message"] + (f" (did you mean {p['suggestion']}?)" if p.get("suggestion") else ""),
                    )
                )
        return sorted(rows, key=lambda t: (t[0], t[1]))

    def rejection_report(self) -> bytes:
        return write_rejection_report(self.rejection_rows())


def import_file(
    intake: IntakeService,
    agency: str,
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    default_kind: str | None = None,
    idempotency_key: str | None = None,
    limits: ReadLimits | None = None,
    chunk_size: int = 10_000,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    parsed = parse_file(data, filename, content_type, default_kind=default_kind, limits=limits)
    results: list[dict[str, Any]] = []
    batch_ids = []
    for start in range(0, len(parsed.records), chunk_size):
        if start:  # each part commits on its own: none starts after the request's deadline
            deadlines.check(f"the file's first {start:,} records were stored, the other "
                            f"{len(parsed.records) - start:,} not: send the file again (a record already "
                            "stored answers duplicate)")
        rows = parsed.records[start : start + chunk_size]
        key = f"{idempotency_key}#{start}" if idempotency_key else None
        try:
            outcome = intake.submit(agency, [r.record for r in rows], idempotency_key=key)
        except RequestTimeout:
            log.warning("import past its deadline: the file's first %d records were stored, the other %d not",
                        start, len(parsed.records) - start)
            raise
        batch_ids.append(outcome.batch_id)
        for parsed_row, o in zip(rows, outcome.outcomes, strict=True):
            results.append({"row": parsed_row.row, **o.to_dict()})
        if progress is not None:
            progress(min(start + chunk_size, len(parsed.records)), len(parsed.records))
    problems = [
        {"row": p.row, "field": p.field, "reason": p.reason, "message": p.message} for p in parsed.problems
    ]
    return ImportResult(",".join(batch_ids) or "-", parsed.format, parsed.encoding, results, problems)
