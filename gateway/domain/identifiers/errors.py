"""Errors raised by the identifier modules.

Every failure is an `IdentifierError` (a `ValueError`) carrying:

* ``code`` — a stable reason code that callers may switch on and that partners see
  (``invalid_length``, ``invalid_character``, ``invalid_checksum``,
  ``invalid_org_code_checksum``, ``invalid_authority``, ``invalid_authority_category``,
  ``unknown_division``, ``placeholder_requires_reg_no``, ``invalid_birth_date``,
  ``org_code_mismatch``, ``empty``);
* ``message`` — a full sentence naming the rule and, when there is one, the position;
  ``str(err)`` is this sentence;
* ``position`` — the 1-based position of the offending character or part, or None;
* ``suggestion`` — the code the user probably meant when a usual typing slip
  (O→0, I→1, Z→2, S→5) explains the failure, or None. It is never applied silently;
* ``field`` — which identifier failed: ``'uscc'``, ``'org_code'``, ``'reg_no'`` or
  ``'id_number'`` (None when the failure concerns no single identifier).

The subclasses follow python-stdnum's names so the kind of failure is visible in the type.

>>> err = InvalidChecksum('The check character (position 18) is wrong.', position=18, field='uscc')
>>> err.code, err.position, err.field, str(err)
('invalid_checksum', 18, 'uscc', 'The check character (position 18) is wrong.')
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

from typing import Any


class IdentifierError(ValueError):
    """An identifier failed validation; see the module docstring for the attributes."""

    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        position: int | None = None,
        suggestion: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.position = position
        self.suggestion = suggestion
        self.field = field

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, code={self.code!r}, position={self.position!r}, "
            f"suggestion={self.suggestion!r}, field={self.field!r})"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # keyword-only arguments would otherwise be lost when pickling or copying
        return (_rebuild, (type(self), self.message, self.__dict__.copy()))


def _rebuild(cls: type[IdentifierError], message: str, state: dict[str, Any]) -> IdentifierError:
    err = cls(message)
    err.__dict__.update(state)
    return err


class InvalidLength(IdentifierError):
    """The identifier has the wrong number of characters (or none at all: code ``empty``)."""

    default_code = "invalid_length"


class InvalidFormat(IdentifierError):
    """A character is not allowed at its position."""

    default_code = "invalid_character"


class InvalidChecksum(IdentifierError):
    """A check character does not match the rest of the identifier."""

    default_code = "invalid_checksum"


class InvalidComponent(IdentifierError):
    """A part of the identifier (authority, category, division, birth date) is not a known value."""

    default_code = "invalid_component"


__all__ = ["IdentifierError", "InvalidChecksum", "InvalidComponent", "InvalidFormat", "InvalidLength"]
