"""`GET /v1/subjects/{uscc}`: the merged credit file."""

from __future__ import annotations

import re
from typing import Any

from gateway.api.deps import services
from gateway.api.isolation import agency_of_caller
from gateway.api.problems import json_response
from gateway.api.views import subject_file
from gateway.domain.identifiers import IdentifierError, parse_key
from gateway.errors import GatewayError, SubjectNotFound
from gateway.intake import repository as intake_repo
from gateway.intake.prepare import person_key


class IdentifierInvalid(GatewayError):
    """The identifier is invalid; the problem names the rule and position."""

    status, slug, title = 400, "identifier-invalid", "Invalid identifier"

    @classmethod
    def from_error(cls, exc: IdentifierError) -> IdentifierInvalid:
        return cls(str(exc), errors=[{
            "field": getattr(exc, "field", None) or "uscc", "reason": exc.code, "message": str(exc),
            **({"position": exc.position} if getattr(exc, "position", None) else {}),
            **({"suggestion": exc.suggestion} if getattr(exc, "suggestion", None) else {}),
        }])


_PERSON_KEY = re.compile(r"^person:[0-9a-f]{32}$")


def resolve(conn, given: str):  # noqa: ANN001, ANN201
    """(subject row or None, normalised key text); raises IdentifierInvalid."""
    try:
        if _PERSON_KEY.match(given):  # the digest key the gateway itself hands out
            return intake_repo.find_subject(conn, "key", given), given
        scheme, value = parse_key(given)
    except IdentifierError as exc:
        raise IdentifierInvalid.from_error(exc) from None
    if scheme == "person":  # a person's key is a digest; the number itself is never stored as a key
        key, masked = person_key(value)
        return intake_repo.find_subject(conn, "key", key), masked
    if scheme == "uscc":
        return intake_repo.find_subject(conn, "key", value), value
    return intake_repo.find_subject(conn, {"org": "org_code", "reg": "reg_no"}[scheme], value), value


def subject_or_404(conn, given: str):  # noqa: ANN001, ANN201
    subject, normalized = resolve(conn, given)
    if subject is None:
        raise SubjectNotFound(f"no records for {normalized}", normalized=normalized)
    return subject


def subject_for_caller(conn, given: str):  # noqa: ANN001, ANN201
    """(subject, the agency's own record ids or None): an agency key finds only the subjects
    it provided records about (404 otherwise, as for an unknown subject)."""
    subject = subject_or_404(conn, given)
    agency = agency_of_caller()
    if agency is None:
        return subject, None
    own = intake_repo.agency_record_uids(conn, subject.id, agency)
    if not own:
        raise SubjectNotFound(f"no records for {subject.key}", normalized=subject.key)
    return subject, own


def get_subject(uscc: str, history: bool = True) -> Any:
    svc = services()
    with svc.db.read() as conn:
        subject, own = subject_for_caller(conn, uscc)
        identifiers, names = intake_repo.subject_aliases(conn, subject.id)
        rows = intake_repo.subject_records(conn, subject.id, include_history=history)
    if own is not None:  # an agency: its own records only
        rows = [r for r in rows if r.uid in own]
    return json_response(subject_file(subject, identifiers, names, rows))
