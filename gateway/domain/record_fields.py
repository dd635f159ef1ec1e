"""The field types and coercions the record kinds share (`gateway.domain.records`): dates as
spreadsheets spell them, authority codes checked as USCCs, lists in one cell, ID numbers,
bounded texts and amounts, the responsible persons a record may name; and a bad field
as a `FieldProblem` with its stable reason code."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from gateway.domain.identifiers import IdentifierError, idcard, uscc

_DATE_RE = re.compile(r"^\s*(\d{4})[-/.年]?(\d{1,2})[-/.月]?(\d{1,2})日?(?:[ T].*)?$")


def to_date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date) or value is None:
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        m = _DATE_RE.match(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise PydanticCustomError("date_parsing", "{text} is not a calendar date", {"text": text}) from None
    return value


_STD_GRADES = {"一级": 1, "二级": 2, "三级": 3, "1": 1, "2": 2, "3": 3}


def std_grade(value: Any) -> Any:
    if isinstance(value, str):
        return _STD_GRADES.get(value.strip(), value)
    return value


def _agency_uscc(value: Any) -> Any:
    """An authority's code (处罚机关 / 许可机关 / 数据来源单位 统一社会信用代码), checked as a USCC."""
    if not isinstance(value, str):
        return value
    try:
        return uscc.validate(value)
    except IdentifierError as err:
        raise PydanticCustomError(
            err.code, "{message}", {"message": str(err), "suggestion": err.suggestion, "position": err.position}
        ) from None


def _str_list(value: Any) -> Any:
    if isinstance(value, str):
        return [p.strip() for p in re.split(r"[;；,，、|]", value) if p.strip()]
    return value


# Blank cells and the non-ISO date spellings of spreadsheets are handled once per record by
# `_Kind._clean` (one Python call per record instead of one per field: intake throughput).
Date = dt.date
OptDate = dt.date | None
Text = Annotated[str, Field(min_length=1, max_length=2000)]
OptText = Annotated[str | None, Field(max_length=4000)]
Amount = Annotated[Decimal | None, Field(ge=0, max_digits=14, decimal_places=6)]
StrList = Annotated[list[str], BeforeValidator(_str_list)]
AgencyCode = Annotated[str, BeforeValidator(_agency_uscc)]
OptAgencyCode = Annotated[str | None, BeforeValidator(_agency_uscc)]
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def is_date_field(annotation: Any) -> bool:
    return annotation is dt.date or dt.date in getattr(annotation, "__args__", ())


def _id_number(value: Any) -> Any:
    """A 居民身份证号 (GB 11643): checked, stored compact (the key of a responsible person)."""
    if not isinstance(value, str):
        return value
    try:
        return idcard.validate(value)
    except IdentifierError as exc:
        raise PydanticCustomError("id_number", "not a valid 居民身份证号: {why}", {"why": str(exc)}) from None


class ResponsiblePerson(BaseModel):
    """A responsible person of the unit, named in a record (`001` §三(一)6, §三(二)2):
    法定代表人、主要负责人、分管安全负责人 (or 负有直接责任的有关人员), keyed by ID number."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)
    role: Literal["legal_representative", "principal", "safety_head", "directly_responsible"]
    name: Text
    id_number: Annotated[str, BeforeValidator(_id_number)]


@dataclass(frozen=True)
class FieldProblem:
    """One bad field: where (dotted path), a stable reason code, and a message."""

    field: str
    reason: str
    message: str
    suggestion: str | None = None
    position: int | None = None  # 1-based position of the bad character in an identifier


class RecordInvalid(ValueError):
    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


# pydantic error type -> our stable reason code (documented in schemas/openapi.yaml)
_REASONS = {
    "missing": "required",
    "extra_forbidden": "unknown_field",
    "enum": "not_in_code_list",
    "literal_error": "not_in_code_list",
    "date_from_datetime_parsing": "bad_date",
    "date_parsing": "bad_date",
    "date_type": "bad_date",
    "value_error": "bad_value",
    "string_too_short": "required",
    "string_too_long": "too_long",
    "too_short": "required",
    "int_parsing": "not_a_number",
    "int_type": "not_a_number",
    "decimal_parsing": "not_a_number",
    "decimal_type": "not_a_number",
    "bool_parsing": "not_a_boolean",
    "bool_type": "not_a_boolean",
    "greater_than_equal": "out_of_range",
    "less_than_equal": "out_of_range",
    "decimal_max_digits": "too_many_digits",
    "decimal_max_places": "too_many_digits",
    "decimal_whole_digits": "too_many_digits",
}


# an identifier's own reason codes (gateway.domain.identifiers.errors) pass through
_IDENTIFIER_REASONS = frozenset({
    "invalid_length", "invalid_character", "invalid_checksum", "invalid_org_code_checksum", "invalid_authority",
    "invalid_authority_category", "unknown_division", "placeholder_requires_reg_no", "empty", "invalid_component",
})


def reason_for(error_type: str) -> str:
    if error_type in _IDENTIFIER_REASONS:
        return error_type
    return _REASONS.get(error_type, "invalid")
