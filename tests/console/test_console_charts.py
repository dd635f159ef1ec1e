"""The console's pictures: server-rendered SVG from the stored deliveries, records and change
feed, for an operator's session only."""

from __future__ import annotations

import datetime as dt

from lxml import etree

from gateway.access.testing import issue
from tests.ops import seed

SVG = "{http://www.w3.org/2000/svg}"


def _login(client, wired) -> None:
    key = issue(wired, "operator", days=3650).token
    r = client.post("/console/login", data={"api_key": key}, follow_redirects=False)
    assert r.status_code == 303, r.text


def _svg(client, name: str) -> etree._Element:
    r = client.get(f"/console/charts/{name}.svg")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("image/svg+xml")
    return etree.fromstring(r.content)


def test_charts_draw_deliveries_backlog_on_time_and_feed_lag(anonymous, wired, clock):
    now = clock.now()
    sid = seed.subject(wired.db, 3, now)
    on_time = seed.record(wired.db, "MY-AJJ", sid, now, publish_by=(now + dt.timedelta(days=1)).date())
    seed.record(wired.db, "MY-AJJ", sid, now, publish_by=now.date() - dt.timedelta(days=2))  # overdue
    seed.delivery(wired.db, now, state="acknowledged", record_uid=on_time, sent_ago=dt.timedelta(minutes=5))
    seed.delivery(wired.db, now, state="pending")
    seed.delivery(wired.db, now, state="retry_wait", seq=2)
    seed.delivery(wired.db, now, destination="credit-china", state="pending")
    seed.quarantined_change(wired.db, seed.subject(wired.db, 8, now), now, "KeyError")
    _login(anonymous, wired)

    backlog = _svg(anonymous, "backlog")
    legends = [t.text for t in backlog.iter(f"{SVG}text") if t.get("class") == "legend"]
    assert set(legends) == {"local", "credit-china"}
    lines = {p.get("data-series"): p.get("points") for p in backlog.iter(f"{SVG}polyline")}
    last_y = {k: float(v.split()[-1].split(",")[1]) for k, v in lines.items()}
    assert last_y["local"] < last_y["credit-china"] < 224  # local has two open deliveries, credit-china one

    deliveries = _svg(anonymous, "deliveries")
    assert {p.get("data-series") for p in deliveries.iter(f"{SVG}polyline")} == {"local", "credit-china"}

    on_time_svg = _svg(anonymous, "on-time")
    bars = [b for b in on_time_svg.iter(f"{SVG}rect") if b.get("class") == "bar"]
    titles = [b.find(f"{SVG}title").text for b in bars]
    rates = sorted(t.rsplit(": ", 1)[1] for t in titles if t.startswith("MY-AJJ"))
    # one on time, one overdue: 50 % in one month, or 100 % and 0 % when the deadlines fall in two
    assert rates in (["50 %"], ["0 %", "100 %"]), titles

    feed = _svg(anonymous, "feed-lag")
    assert "1 set aside" in feed.get("aria-label")


def test_charts_are_for_operators_only(anonymous, wired):
    assert anonymous.get("/console/charts/backlog.svg").status_code == 401
    partner = issue(wired, "finance")
    anonymous.cookies.set("gw_console", partner.token)
    assert anonymous.get("/console/charts/backlog.svg").status_code == 403
    assert anonymous.get("/console/charts/nope.svg").status_code == 404


def test_the_chart_code_is_deterministic_and_escapes_names():
    from gateway.console.charts import bar_chart

    svg = bar_chart("x", "t <&>", ["2026-01"], {"<script>": [0.5]}, percent=True)
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    etree.fromstring(svg.encode())
