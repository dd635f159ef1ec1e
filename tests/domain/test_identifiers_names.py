"""normalize_name: subject names compared in one form."""

from __future__ import annotations

import pytest

from gateway.domain.identifiers import normalize_name


@pytest.mark.parametrize(
    ("typed", "normal"),
    [
        ("四川 某某 建设有限公司", "四川某某建设有限公司"),
        ("\u3000四川某某建设有限公司\u3000", "四川某某建设有限公司"),
        ("四川某某建设有限公司(绵阳分公司)", "四川某某建设有限公司（绵阳分公司）"),
        ("四川某某建设有限公司（绵阳分公司）", "四川某某建设有限公司（绵阳分公司）"),
        ("ＡＢＣ科技（成都）有限公司", "ABC科技（成都）有限公司"),
        ("某某\u200b科技\ufeff有限公司\t\n", "某某科技有限公司"),
        ("绵阳市１２３号", "绵阳市123号"),
    ],
)
def test_whitespace_is_removed_and_brackets_are_full_width(typed, normal):
    assert normalize_name(typed) == normal


def test_letter_case_is_kept():
    assert normalize_name("abc Tech") == "abcTech"


def test_normalising_a_combining_mark_after_a_removed_space_is_still_idempotent():
    once = normalize_name("e \u0301")
    assert normalize_name(once) == once == "é"
