"""`GET /v1/credit/{uscc}`, `POST /v1/eligibility:check`, `GET /v1/eligibility-reports/{id}`.

Every answer is read from the stored standing the change-feed consumer wrote; nothing is
decided on a request."""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.context import context
from connexion.lifecycle import ConnexionResponse

from gateway.access.credit import credit_view
from gateway.access.eligibility import check
from gateway.access.keys import Principal
from gateway.access.repository import fetch_report
from gateway.api.deps import services
from gateway.api.isolation import minimised
from gateway.api.problems import json_response
from gateway.api.subjects import resolve
from gateway.domain.identifiers import IdentifierError
from gateway.domain.identifiers import uscc as uscc_codes
from gateway.errors import GatewayError, SubjectNotFound
from gateway.policy.repository import StoredStanding, stored_standing


class StandingPending(GatewayError):
    """The subject's first records arrived and are still being decided."""

    status, slug, title = 503, "standing-pending", "The standing is being decided"


class TooManyBidders(GatewayError):
    status, slug, title = 413, "too-many-bidders", "Too many bidders"


class SigningUnavailable(GatewayError):
    status, slug, title = 503, "signing-unavailable", "Signing key unavailable"


class ReportNotFound(GatewayError):
    status, slug, title = 404, "report-not-found", "No such report"


def principal() -> Principal:
    return context["token_info"]["principal"]


def note(**values: Any) -> None:
    """What the audit entry of this request should say beyond the defaults."""
    context.setdefault("audit", {}).update({k: v for k, v in values.items() if v is not None})


def _lookup(db: Any, given: str) -> tuple[StoredStanding | None, str]:
    """The stored standing of the subject named by `given` (a USCC in one query)."""
    if len(given) == 18:  # stored keys were validated at intake: one found as it stands needs no checking
        with db.point_read() as conn:
            found = stored_standing(conn, key=given)
        if found is not None:
            return found, given
    with db.read() as conn:
        try:
            code = uscc_codes.validate(given)
        except IdentifierError:
            subject, normalized = resolve(conn, given)  # another identifier, or an invalid one (raises)
            return (stored_standing(conn, subject_id=subject.id) if subject is not None else None), normalized
        return stored_standing(conn, key=code), code


async def get_credit(uscc: str, purpose: str | None = None) -> Any:
    """One indexed read, on the event loop: handing a point read to a worker thread costs more
    than the read itself (docs/notes.md, measured with bench/query.py)."""
    svc = services()
    ctx = context._get_current_object()  # one proxy lookup, not one per access
    who = ctx["token_info"]["principal"]
    audit = ctx.setdefault("audit", {})
    if purpose is not None:
        audit["purpose"] = purpose
    try:
        found, normalized = _lookup(svc.db, uscc)
    except GatewayError as exc:
        audit["outcome"] = exc.slug
        raise
    audit["subject"] = normalized
    if found is None:
        audit["outcome"] = "subject-not-found"
        raise SubjectNotFound(f"the gateway holds nothing on {normalized}", normalized=normalized)
    subject, standing, pending = found.subject, found.standing, found.pending
    if standing is None:
        audit["outcome"] = "standing-pending"
        raise StandingPending(f"the records of {subject.key} are still being decided; ask again in a moment",
                              headers={"Retry-After": "1"}, subject=subject.key)
    body = credit_view(subject, standing, who, pending=pending)
    if who.sector == "agency":  # an agency sees its own record ids only
        body = minimised(body)
    audit["subject"] = subject.key
    audit["detail"] = {"standing": body["standing"], "measures": len(body["measures"]), "version": standing.version}
    return json_response(body)


def _wants_xml() -> bool:
    accept = request.headers.get("accept") or ""
    return "application/xml" in accept and "application/json" not in accept


def check_eligibility(body: dict) -> Any:
    svc = services()
    who = principal()
    bidders = body.get("bidders") or []
    purpose = body.get("purpose")
    limit = svc.access.max_eligibility_bidders
    note(purpose=purpose, detail={"bidders": len(bidders), "reference": body.get("reference")})
    if len(bidders) > limit:
        raise TooManyBidders(f"{len(bidders)} bidders; at most {limit} per check")
    try:
        key = svc.keyring.active
    except Exception as exc:  # noqa: BLE001 - no usable signing key: the report cannot be issued
        raise SigningUnavailable(f"the report cannot be signed: {exc}") from None
    result = check(svc, who, purpose, bidders, body.get("reference"), key)
    counts = result.body["counts"]
    note(subject=bidders[0] if len(bidders) == 1 else None,
         detail={"bidders": len(bidders), "report_id": result.report_id, **counts,
                 "restricted_codes": [b["code"] for b in result.body["bidders"] if b["status"] == "restricted"][:50]})
    headers = {"Location": result.body["report"], "X-Report-Id": result.report_id}
    if _wants_xml():
        return ConnexionResponse(status_code=200, mimetype="application/xml", content_type="application/xml",
                                 body=result.xml, headers=headers)
    return json_response(result.body, headers=headers)


def get_eligibility_report(report_id: str) -> Any:
    svc = services()
    who = principal()
    note(detail={"report_id": report_id})
    with svc.db.read() as conn:
        row = fetch_report(conn, report_id)
    # another partner's report is as good as absent: no hint that it exists
    if row is None or (not who.is_operator and row.partner_id != who.partner_id):
        raise ReportNotFound(f"no eligibility report {report_id!r}")
    note(purpose=row.purpose)
    return ConnexionResponse(status_code=200, mimetype="application/xml", content_type="application/xml",
                             body=row.xml, headers={"X-Report-Id": report_id})
