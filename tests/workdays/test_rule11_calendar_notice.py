"""Rule 11: an operator loads a year's official holiday notice as data (`gateway calendar load`),
`gateway calendar show YEAR` prints what is in force, and a process started after the load
counts that year's deadlines by the notice (no longer estimated)."""

from __future__ import annotations

from gateway.access.testing import headers_for, issue
from gateway.cli import main
from tests.factories import make_uscc, penalty

NOTICE = """year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知（演练）
holidays: [2027-01-01, {from: 2027-02-05, to: 2027-02-11}]
workdays: [2027-02-14]
"""


def test_rule11_a_loaded_notice_is_in_force_for_processes_started_after_it(client, db, settings, tmp_path, capsys):
    args = ["--database-url", db.url]
    assert main(["calendar", "show", "2027", *args]) == 0
    shown = capsys.readouterr().out
    assert shown.splitlines()[0].startswith("2027: ESTIMATED")
    assert "holiday\t2027-01-01" in shown and "2027-02-14" not in shown

    notice = tmp_path / "2027.yaml"
    notice.write_text(NOTICE, encoding="utf-8")
    assert main(["calendar", "load", str(notice), *args]) == 0
    assert "loaded the 2027 notice" in capsys.readouterr().out
    assert main(["calendar", "load", str(notice), *args]) == 0
    assert "replaced the 2027 notice" in capsys.readouterr().out
    assert main(["calendar", "show", "2027", *args]) == 0
    shown = capsys.readouterr().out
    assert shown.splitlines()[0] == "2027: the official notice loaded as data: 国务院办公厅关于2027年部分节假日安排的通知（演练）"
    assert "workday\t2027-02-14\tSun" in shown and "holiday\t2027-02-10\tWed" in shown

    # a process started now: Thu 4 Feb + 7 working days by the notice: 5-11 Feb off, Sun 14 worked:
    # 12, 14, 15, 16, 17, 18, 19 Feb -> Fri 19 Feb, not estimated
    from gateway.app import create_app
    from gateway.bootstrap import build

    services = build(settings, db=db)
    with create_app(services).test_client(headers=headers_for(issue(services, "operator", days=3650))) as fresh:
        r = fresh.post("/v1/records?agency=MY-AJJ", json=penalty("P-N", make_uscc(11), decided="2027-02-04"))
    assert r.status_code == 201, r.text
    assert (r.json()["publish_by"], r.json()["publish_by_estimated"]) == ("2027-02-19", False)


def test_rule11_a_notice_that_does_not_read_is_one_line_and_exit_2(db, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("year: 2027\nholidays: [not-a-date]\n", encoding="utf-8")
    assert main(["calendar", "load", str(bad), "--database-url", db.url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("gateway: calendar load:")
