"""`GET /v1/templates/{kind}.xlsx`: the import template of a record kind (gateway.intake.templates)."""

from __future__ import annotations

from typing import Any

from connexion.lifecycle import ConnexionResponse

from gateway.intake import templates


def get_template(kind: str) -> Any:
    # the kind is one of the spec's enumeration: connexion answered 400 for any other
    return ConnexionResponse(
        status_code=200,
        mimetype=templates.XLSX_TYPE,
        content_type=templates.XLSX_TYPE,
        body=templates.workbook(kind),
        headers={"Content-Disposition": f'attachment; filename="{kind}.xlsx"'},
    )
