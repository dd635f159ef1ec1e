"""`POST /v1/records`, `:batch`, `:import`; `GET /v1/records/{id}`."""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.lifecycle import ConnexionResponse
from starlette.concurrency import run_in_threadpool

from gateway.api.deps import services
from gateway.api.isolation import agency_of_caller
from gateway.api.problems import json_response
from gateway.api.views import record_version
from gateway.errors import GatewayError
from gateway.intake import reports
from gateway.intake import repository as intake_repo
from gateway.intake.importing import import_file
from gateway.intake.limits import LimitExceeded, ReadLimits
from gateway.intake.report_xlsx import XLSX_TYPE
from gateway.xmlsafe import MalformedXml, UnsafeXml


class RecordInvalid(GatewayError):
    status, slug, title = 422, "record-invalid", "The record was rejected"


class BatchTooLarge(GatewayError):
    status, slug, title = 413, "batch-too-large", "Too many records"


class EmptyFile(GatewayError):
    status, slug, title = 400, "empty-file", "Empty file"


class UnsafeXmlRefused(GatewayError):
    status, slug, title = 400, "unsafe-xml", "XML refused"


class MalformedXmlRefused(GatewayError):
    status, slug, title = 400, "malformed-xml", "Malformed XML"


class UnreadableFile(GatewayError):
    status, slug, title = 422, "unreadable-file", "The file could not be read"


class FileLimit(GatewayError):
    """A file beyond one of the reading limits (gateway.intake.limits): 413, one type per limit,
    with the setting that holds the limit and its value as members."""

    status, slug, title = 413, "file-limit", "The file is beyond a reading limit"


class TooManyRows(FileLimit):
    slug, title = "too-many-rows", "Too many rows"


class TooManyColumns(FileLimit):
    slug, title = "too-many-columns", "Too many cells in a row"


class CellTooLong(FileLimit):
    slug, title = "cell-too-long", "A cell is too long"


class ArchiveTooLarge(FileLimit):
    slug, title = "archive-too-large", "The workbook unpacks too large"


class CompressionRatio(FileLimit):
    slug, title = "compression-ratio", "The workbook is packed too tightly (zip bomb)"


_LIMITS: dict[str, type[FileLimit]] = {
    "too_many_rows": TooManyRows, "too_many_columns": TooManyColumns, "cell_too_long": CellTooLong,
    "archive_too_large": ArchiveTooLarge, "compression_ratio": CompressionRatio,
}


class RecordNotFound(GatewayError):
    status, slug, title = 404, "record-not-found", "No such record"


def _idempotency_key() -> str | None:
    return request.headers.get("idempotency-key")


def _submit(agency: str, records: list[Any]):  # noqa: ANN202
    return services().intake.submit(agency, records, idempotency_key=_idempotency_key())


def post_record(agency: str, body: dict) -> Any:
    result = _submit(agency, [body])
    outcome = result.outcomes[0]
    if outcome.outcome == "rejected":
        errors = [{"index": 0, **p} for p in outcome.problems]
        raise RecordInvalid(f"{len(errors)} problem(s)", errors=errors, source_record_id=outcome.source_record_id)
    status = 200 if outcome.outcome == "duplicate" else 201
    return json_response(outcome.to_dict(), status)


def post_batch(agency: str, body: dict) -> Any:
    records = body.get("records") or []
    limit = services().settings.max_batch_records
    if len(records) > limit:
        raise BatchTooLarge(f"{len(records)} records; at most {limit} per batch")
    return json_response(_submit(agency, records).to_dict())


async def post_import(agency: str, kind: str | None = None, lang: str | None = None, body: Any = None) -> Any:
    # connexion has already read the body and hands it over; reading the ASGI stream again
    # would wait for a message that never comes (docs/notes.md)
    data = body if isinstance(body, bytes | bytearray) else (body.encode() if isinstance(body, str) else b"")
    if not data:
        raise EmptyFile("the request body holds no file")
    svc = services()
    content_type = request.headers.get("content-type")
    filename = request.headers.get("x-filename")
    try:
        result = await run_in_threadpool(
            import_file,
            svc.intake,
            agency,
            data,
            filename=filename,
            content_type=content_type,
            default_kind=kind,
            idempotency_key=_idempotency_key(),
            limits=ReadLimits.from_settings(svc.settings),
        )
    except LimitExceeded as exc:
        cls = _LIMITS.get(exc.reason, FileLimit)
        raise cls(str(exc), setting=exc.setting, limit=exc.limit, reason=exc.reason) from None
    except UnsafeXml as exc:
        raise UnsafeXmlRefused(str(exc)) from None
    except MalformedXml as exc:
        raise MalformedXmlRefused(str(exc)) from None
    except GatewayError:
        raise
    except ValueError as exc:  # the parser's refusal of a file it cannot read
        raise UnreadableFile(str(exc)) from None
    accept = request.headers.get("accept") or ""
    language = reports.language(lang or request.headers.get("accept-language"))
    if XLSX_TYPE in accept and result.can_mirror():
        workbook = await run_in_threadpool(result.rejection_workbook, data, language, kind)
        return ConnexionResponse(
            status_code=200,
            mimetype=XLSX_TYPE,
            content_type=XLSX_TYPE,
            body=workbook,
            headers={"Content-Disposition": 'attachment; filename="rejections.xlsx"'},
        )
    if "text/csv" in accept or XLSX_TYPE in accept:
        return ConnexionResponse(
            status_code=200,
            mimetype="text/csv",
            content_type="text/csv; charset=utf-8",
            body=result.rejection_report(language),
            headers={"Content-Disposition": 'attachment; filename="rejections.csv"'},
        )
    return json_response(result.to_dict())


def get_record(record_id: str) -> Any:
    with services().db.read() as conn:
        rows = intake_repo.record_history(conn, record_id)
    agency = agency_of_caller()
    if not rows or (agency is not None and rows[0].agency_code != agency):
        # another agency's record is unknown to an agency key (no hint that it exists)
        raise RecordNotFound(f"no record {record_id!r}")
    return json_response({"record_id": record_id, "versions": [record_version(r) for r in rows]})
