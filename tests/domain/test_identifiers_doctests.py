"""The examples in the identifier modules' docstrings are part of the documentation: run them."""

from __future__ import annotations

import doctest

import pytest

from gateway.domain.identifiers import _text, divisions, errors, idcard, names, orgcode, regno, subject, uscc


@pytest.mark.parametrize(
    "module",
    [_text, divisions, errors, idcard, names, orgcode, regno, subject, uscc],
    ids=lambda m: m.__name__,
)
def test_docstring_examples_hold(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
