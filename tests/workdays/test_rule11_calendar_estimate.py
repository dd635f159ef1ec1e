"""Rule 11: years the official calendar lacks are estimated from the statutory holidays
(weekends, 元旦, 劳动节 1-2 May, 国庆 1-3 Oct, 春节, 清明, 端午, 中秋), marked estimated, until
an operator loads the year's official notice (docs/policy.md, "Rules 8-12")."""

from __future__ import annotations

from tests.factories import make_uscc, penalty

A = make_uscc(1)


def post(client, body, agency="MY-AJJ"):
    return client.post(f"/v1/records?agency={agency}", json=body)


def test_rule11_estimate_skips_new_year_day_for_a_2026_12_28_penalty(client):
    # Mon 28 Dec 2026 (official) + 7 working days: 29, 30, 31 Dec, then 2027 (estimated):
    # Fri 1 Jan is 元旦, so 4, 5, 6, 7 Jan -> Thu 7 Jan (counting 1 Jan gave 6 Jan)
    r = post(client, penalty("P1", A, decided="2026-12-28"))
    assert r.status_code == 201, r.text
    assert r.json()["publish_by"] == "2027-01-07"
    assert r.json()["publish_by_estimated"] is True


def test_rule11_estimate_skips_the_lunar_spring_festival(client):
    # 春节 2027: 除夕 Fri 5 Feb, 初一-初三 Sat 6 - Mon 8 Feb. Thu 4 Feb + 7 working days:
    # 9, 10, 11, 12, 15, 16, 17 Feb (5 and 8 Feb are holidays) -> Wed 17 Feb
    r = post(client, penalty("P2", A, decided="2027-02-04"))
    assert r.json()["publish_by"] == "2027-02-17" and r.json()["publish_by_estimated"] is True


def test_rule11_estimate_skips_qingming_a_solar_term(client):
    # 清明 2027 is Mon 5 Apr. Thu 1 Apr + 7: 2, 6, 7, 8, 9, 12, 13 Apr -> Tue 13 Apr
    r = post(client, penalty("P3", A, decided="2027-04-01"))
    assert r.json()["publish_by"] == "2027-04-13" and r.json()["publish_by_estimated"] is True
