"""Names of market subjects (企业名称), normalised for comparison.

Agencies type the same name in different ways: full-width and half-width letters and digits,
spaces (also the ideographic space U+3000) inside the name, and brackets written ``()`` or
``（）`` — 四川某某建设有限公司(绵阳分公司). The registered form uses full-width brackets, so
`normalize_name`:

* applies Unicode NFKC (full-width letters and digits become half-width, compatibility
  ideographs become the unified ones);
* removes all whitespace and invisible format characters (zero-width space, BOM …);
* writes round brackets full-width: ``(`` → ``（``, ``)`` → ``）`` (NFKC would do the opposite,
  so this comes after it).

The result is idempotent; the letter case is kept.

>>> normalize_name(' 四川 绵阳 某某建设有限公司 (涪城分公司)\u3000')
'四川绵阳某某建设有限公司（涪城分公司）'
>>> normalize_name('ＡＢＣ科技（成都）有限公司')
'ABC科技（成都）有限公司'
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_BRACKETS = str.maketrans({"(": "（", ")": "）"})
_MAX_ROUNDS = 8


def _once(name: str) -> str:
    text = unicodedata.normalize("NFKC", name)
    # every whitespace and format (Cf) character is non-printable but the ASCII space, so a
    # printable text without one has nothing to remove (str.isprintable runs in C)
    if not text.isprintable() or " " in text:
        text = "".join(c for c in text if not (c.isspace() or unicodedata.category(c) == "Cf"))
    return text.translate(_BRACKETS)


@lru_cache(maxsize=16_384)  # a pure function of its text; an upload repeats its subjects' names
def normalize_name(name: str) -> str:
    """The comparison form of a subject's name (see the module docstring)."""
    # Removing a space can put a combining mark next to a new base character, which NFKC
    # then composes, so repeat until nothing changes (two rounds in practice).
    text = name
    for _ in range(_MAX_ROUNDS):
        again = _once(text)
        if again == text:
            break
        text = again
    return text
