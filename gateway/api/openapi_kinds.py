"""Generate the record-kind schemas of `schemas/openapi.yaml` from the domain models.

`python -m gateway.api.openapi_kinds` rewrites the `components.schemas.*Data` entries; a test
fails when the YAML and the models drift. Field descriptions are the Chinese field names
written beside each field in `gateway/domain/records.py`.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from gateway.domain.records import KIND_MODELS, RecordKind

_OPENAPI_KEYWORDS = {
    "type", "format", "description", "default", "enum", "items", "properties", "required", "additionalProperties",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "pattern",
    "minItems", "maxItems", "nullable", "anyOf", "oneOf", "allOf", "multipleOf",
}
_COMMENT = re.compile(r"^\s+(\w+):[^#]*#\s*(.+)$")


def _field_comments(model: type) -> dict[str, str]:
    comments = {}
    for line in inspect.getsource(model).splitlines():
        m = _COMMENT.match(line)
        if m:
            comments[m[1]] = m[2].strip()
    return comments


def _to_openapi(node: Any, defs: dict[str, Any]) -> Any:
    """pydantic's JSON Schema → OpenAPI 3.0 (inline $defs, `nullable`, standard keywords only)."""
    if isinstance(node, list):
        return [_to_openapi(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _to_openapi(defs[node["$ref"].split("/")[-1]], defs)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: _to_openapi(prop, defs) for name, prop in value.items()}
        elif key == "anyOf":
            variants = [v for v in value if v.get("type") != "null"]
            if len(variants) == 1:
                out.update(_to_openapi(variants[0], defs))
            else:
                out["anyOf"] = [_to_openapi(v, defs) for v in variants]
            if len(variants) < len(value):
                out["nullable"] = True
        elif key == "default" and value is None:
            continue  # connexion validates defaults against the type; absence means null
        elif key in _OPENAPI_KEYWORDS:
            out[key] = _to_openapi(value, defs)
    return out


def schema_name(kind: RecordKind) -> str:
    return "".join(part.title() for part in kind.value.split("_")) + "Data"


def kind_schemas() -> dict[str, Any]:
    out = {}
    for kind, model in KIND_MODELS.items():
        raw = model.model_json_schema()
        schema = _to_openapi(raw, raw.get("$defs", {}))
        comments = _field_comments(model)
        for name, prop in schema.get("properties", {}).items():
            if name in comments:
                prop["description"] = comments[name]
            if prop.get("type") == "number" or "anyOf" in prop:  # decimals: number or numeric string
                prop.pop("anyOf", None)
                prop.pop("type", None)
                prop["oneOf"] = [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}]
        schema["description"] = (model.__doc__ or "").strip().splitlines()[0]
        out[schema_name(kind)] = schema
    return out


def main() -> None:  # pragma: no cover - a maintenance tool
    import yaml

    from gateway.paths import OPENAPI

    text = OPENAPI.read_text(encoding="utf-8")
    marker = "    # --- generated: record kinds (python -m gateway.api.openapi_kinds) ---\n"
    head, _, _ = text.partition(marker)
    body = yaml.safe_dump(kind_schemas(), allow_unicode=True, sort_keys=False, width=1000)
    indented = "".join("    " + line + "\n" for line in body.splitlines())
    OPENAPI.write_text(head + marker + indented, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    main()
