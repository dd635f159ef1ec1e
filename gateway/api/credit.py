"""`GET /v1/credit/{uscc}`, `POST /v1/eligibility:check`, `GET /v1/eligibility-reports/{id}`."""

from __future__ import annotations

from typing import Any

from connexion import request
from connexion.context import context
from connexion.lifecycle import ConnexionResponse

from gateway.access.credit import credit_view
from gateway.access.eligibility import EligibilityError, check, fetch_report, signing_key
from gateway.access.keys import Principal
from gateway.access.settings import access_settings
from gateway.access.standing import standings
from gateway.api.deps import services
from gateway.api.problems import json_response, problem
from gateway.api.subjects import identifier_problem, resolve
from gateway.domain.identifiers import IdentifierError


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
        except IdentifierError as exc:
            note(outcome="identifier-invalid")
            return identifier_problem(exc, uscc)
        note(subject=normalized)
        if subject is None:
            note(outcome="subject-not-found")
            return problem(404, "subject-not-found", "Unknown subject", f"the gateway holds nothing on {normalized}",
                           normalized=normalized)
        standing = standings(svc, conn, [subject])[subject.id]
    body = credit_view(standing, who)
    note(subject=subject.key, detail={"standing": body["standing"], "measures": len(body["measures"])})
    return json_response(body)


def _wants_xml() -> bool:
    accept = request.headers.get("accept") or ""
    return "application/xml" in accept and "application/json" not in accept


def check_eligibility(body: dict) -> Any:
    svc = services()
    who = principal()
    bidders = body.get("bidders") or []
    purpose = body.get("purpose")
    limit = access_settings(svc).max_eligibility_bidders
    note(purpose=purpose, detail={"bidders": len(bidders), "reference": body.get("reference")})
    if len(bidders) > limit:
        return problem(413, "too-many-bidders", "Too many bidders", f"{len(bidders)} bidders; at most {limit} per check")
    try:
        key = signing_key(svc)
    except Exception as exc:  # noqa: BLE001 - no usable signing key: the report cannot be issued
        return problem(503, "signing-unavailable", "Signing key unavailable", f"the report cannot be signed: {exc}")
    try:
        result = check(svc, who, purpose, bidders, body.get("reference"), key)
    except EligibilityError as exc:
        return problem(exc.status, exc.slug, exc.title, exc.detail, **exc.extra)
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
        return problem(404, "report-not-found", "No such report", f"no eligibility report {report_id!r}")
    note(purpose=row.purpose)
    return ConnexionResponse(status_code=200, mimetype="application/xml", content_type="application/xml",
                             body=row.xml, headers={"X-Report-Id": report_id})
