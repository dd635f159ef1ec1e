"""File import: parse (CSV/XLSX/XML) → submit as one batch → outcomes per file row.

Used by `POST /v1/records:import` and `gateway import FILE`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gateway import deadlines
from gateway.errors import RequestTimeout
from gateway.intake import report_xlsx, reports
from gateway.intake.columns import DOCUMENT_NUMBER, ISSUER_FIELDS, Layout
from gateway.intake.files import parse_file
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
    records: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)  # parsed, by row
    layout: Layout | None = field(default=None, repr=False)

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

    def report_lines(self, lang: reports.Language = "zh") -> list[reports.ReportLine]:
        """The rejection report: row, column as headed, bad value, reason, sentence, did-you-mean."""
        return reports.build(self.results, self.file_problems, records=self.records, layout=self.layout, lang=lang)

    def rejection_report(self, lang: reports.Language = "zh") -> bytes:
        return reports.report_csv(self.report_lines(lang), lang)

    def can_mirror(self) -> bool:
        """Whether the marked workbook can be made: a CSV or XLSX upload of at most report_xlsx.MAX_ROWS rows."""
        return self.format in ("csv", "xlsx") and len(self.results) <= report_xlsx.MAX_ROWS

    def rejection_workbook(self, data: bytes, lang: reports.Language = "zh", default_kind: str | None = None) -> bytes:
        """The uploaded sheet with its bad cells marked and commented (CSV and XLSX uploads)."""
        return report_xlsx.mirror(data, self.format, self.report_lines(lang), lang, default_kind)


def _derive_issuer(record: dict[str, Any], issuer: tuple[str, str | None] | None) -> None:
    """A 双公示 row without its 处罚机关 / 许可机关 (the 2016 template has no code column) is the
    importing agency's own decision: the gateway fills them from the agency's registration."""
    fields = ISSUER_FIELDS.get(str(record.get("kind")))
    data = record.get("data")
    if issuer is None or fields is None or not isinstance(data, dict) or record.get("action") == "withdraw":
        return
    for value, name in zip(issuer, fields, strict=True):
        if value and name not in data:
            data[name] = value


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
    issuer = intake.issuer_of(agency)
    for parsed_row in parsed.records:
        _derive_issuer(parsed_row.record, issuer)
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
            result = {"row": parsed_row.row, **o.to_dict()}
            record = parsed_row.record
            if record.get("source_record_id") is None and record.get("kind") in DOCUMENT_NUMBER and "problems" in result:
                # derived from the decision number, whose own problem says what to fill in
                result["problems"] = [p for p in result["problems"] if p["field"] != "source_record_id"]
            results.append(result)
        if progress is not None:
            progress(min(start + chunk_size, len(parsed.records)), len(parsed.records))
    problems = [
        {"row": p.row, "field": p.field, "reason": p.reason, "message": p.message} for p in parsed.problems
    ]
    return ImportResult(",".join(batch_ids) or "-", parsed.format, parsed.encoding, results, problems,
                        {r.row: r.record for r in parsed.records}, parsed.layout)
