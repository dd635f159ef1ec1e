"""Text clean-up shared by the identifier modules (private).

People paste identifiers from PDFs, spreadsheets and Chinese input methods, so a code may
arrive in full-width characters, with ideographic spaces, any kind of dash, or invisible
zero-width characters. `clean` removes all of that and upper-cases; it is idempotent.

>>> clean(' ９１３５０１００－ｍ０００１００y４３\u200b ')
'91350100M000100Y43'
"""

from __future__ import annotations

import unicodedata

# Characters that look like a separator but are not in Unicode's "dash punctuation" class.
_DASH_LOOKALIKES = frozenset("\u2212\u2043\u2500\u30fc\uff70")

# The usual typing slips: a letter typed where the digit that looks like it was meant.
SLIPS = {"O": "0", "I": "1", "Z": "2", "S": "5"}


def _halfwidth(char: str) -> str:
    code = ord(char)
    if 0xFF01 <= code <= 0xFF5E:  # full-width ASCII forms
        return chr(code - 0xFEE0)
    return char


def _is_separator(char: str) -> bool:
    # whitespace (incl. U+3000), dashes of every kind, and format characters such as
    # U+200B..U+200D, U+2060, U+FEFF and the soft hyphen
    return char.isspace() or char in _DASH_LOOKALIKES or unicodedata.category(char) in ("Pd", "Cf")


def clean(text: str) -> str:
    """Return `text` half-width, upper-case, without spaces, dashes or invisible characters."""
    if text.isascii() and text.isalnum():  # the usual case, already clean but for case
        return text.upper()
    upper = "".join(_halfwidth(c) for c in text.upper())
    return "".join(c for c in upper if not _is_separator(c))


def slip_candidates(code: str) -> list[str]:
    """Variants of `code` with the usual typing slips undone: all of them first, then one at a time."""
    positions = [i for i, c in enumerate(code) if c in SLIPS]
    if not positions:
        return []
    candidates = ["".join(SLIPS.get(c, c) for c in code)]
    for i in positions:
        candidates.append(code[:i] + SLIPS[code[i]] + code[i + 1 :])
    return list(dict.fromkeys(candidates))


def checked_with_suggestion(check, number: str, *, suggest: bool = True) -> str:
    """`check(number)`, and when it fails, the error carries the first typing-slip variant of
    `number` that passes the same check (a suggestion only: nothing is silently fixed)."""
    from gateway.domain.identifiers.errors import IdentifierError

    try:
        return check(number)
    except IdentifierError as err:
        if suggest:
            err.suggestion = None
            for candidate in slip_candidates(number):
                try:
                    err.suggestion = check(candidate)
                    break
                except IdentifierError:
                    continue
        raise


def passes(check, number: str) -> bool:
    """Whether `check(number)` accepts it; no suggestions are computed (is_valid is a yes/no)."""
    from gateway.domain.identifiers.errors import IdentifierError

    try:
        check(number)
    except IdentifierError:
        return False
    return True
