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
from gateway.api.problems import json_response
from gateway.api.subjects import resolve
from gateway.changes import feed
from gateway.errors import GatewayError, SubjectNotFound
from gateway.policy.repository import standings_of


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


def get_credit(uscc: str, purpose: str | None = None) -> Any:
    svc = services()
    who = principal()
    note(purpose=purpose)
    with svc.db.read() as conn:
        try:
            subject, normalized = resolve(conn, uscc)
        except GatewayError as exc:
            note(outcome=exc.slug)
            raise
        note(subject=normalized)
        if subject is None:
            note(outcome="subject-not-found")
            raise SubjectNotFound(f"the gateway holds nothing on {normalized}", normalized=normalized)
        standing = standings_of(conn, [subject.id]).get(subject.id)
        pending = bool(feed.pending_for(conn, [subject.id]))
    if standing is None:
        note(outcome="standing-pending")
        raise StandingPending(f"the records of {subject.key} are still being decided; ask again in a moment",
                              headers={"Retry-After": "1"}, subject=subject.key)
    body = credit_view(subject, standing, who, pending=pending)
    note(subject=subject.key, detail={"standing": body["standing"], "measures": len(body["measures"]),
                                      "version": standing.version})
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
