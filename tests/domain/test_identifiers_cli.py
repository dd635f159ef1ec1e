"""`gateway uscc check`."""

from __future__ import annotations

import io

from gateway.cli import main


def test_valid_codes_print_normalised_and_exit_0(capsys):
    assert main(["uscc", "check", "91350100M000100Y43", "９１１１００００６０００３７３４１ｌ"]) == 0
    assert capsys.readouterr().out.splitlines() == ["91350100M000100Y43", "91110000600037341L"]


def test_an_invalid_code_prints_the_reason_and_exits_1(capsys):
    assert main(["uscc", "check", "91350100M000100Y43", "91110000600037341M"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "91350100M000100Y43"
    assert lines[1].startswith("INVALID 91110000600037341M: ")
    assert "position 18" in lines[1]
    assert "did you mean" not in lines[1]


def test_a_typing_slip_gets_a_suggestion(capsys):
    assert main(["uscc", "check", "9135O100M000100Y43"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("INVALID 9135O100M000100Y43: Character 5 of the USCC is 'O'")
    assert out.rstrip().endswith("(did you mean 91350100M000100Y43?)")


def test_the_placeholder_alone_is_invalid(capsys):
    assert main(["uscc", "check", "00000000000000000X"]) == 1
    assert "工商注册号" in capsys.readouterr().out


def test_dash_reads_codes_from_stdin_one_per_line(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("91350100M000100Y43\n\n91110000600037341M\r\n"))
    assert main(["uscc", "check", "-", "91110000600037341L"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "91350100M000100Y43"
    assert lines[1].startswith("INVALID 91110000600037341M: ")
    assert lines[2] == "91110000600037341L"
    assert len(lines) == 3
