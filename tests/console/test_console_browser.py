"""The console end to end in headless Chromium: the gateway served by uvicorn on loopback,
a dead delivery and a proposed list entry seeded, an operator logs in, requeues the
delivery and notifies the entry, and the database shows both changes (and the audit log
records them under the operator's key). Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from gateway.access.testing import issue
from tests.factories import make_uscc
from tests.ops import seed

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium chromium-driver)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(app):
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=ARGS, headless=True)
        yield b
        b.close()


def test_operator_logs_in_requeues_a_dead_delivery_and_notifies_a_proposed_entry(served, browser, wired, clock):
    from sqlalchemy import select

    from gateway.store.access_tables import audit_log

    now = clock.now()
    subject_id = seed.subject(wired.db, 7, now)
    dead = seed.delivery(wired.db, now, state="dead", error="HTTP 503 after 8 attempts", attempts=8)
    entry = seed.proposed_entry(wired.db, subject_id, now)
    poisoned = seed.subject(wired.db, 8, now, name="绵阳市某矿业有限公司")
    seed.quarantined_change(wired.db, poisoned, now, "KeyError: 'occurred_on'")
    item = seed.quarantined_item(wired.db, make_uscc(7), now, "the bulletin schema refuses CF_SY: U+FFFF")
    operator = issue(wired, "operator", days=3650)
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(served + "/console")
    page.fill("#api_key", operator.token)
    page.screenshot(path=str(ARTIFACTS / "console-login.png"))
    page.click("#login-button")
    page.wait_for_selector("body[data-loaded='1']")
    cookie = next(c for c in page.context.cookies() if c["name"] == "gw_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert page.evaluate("document.cookie") == ""  # the key is out of the script's reach
    page.wait_for_selector(f"#dead tr[data-delivery='{dead}']")
    page.wait_for_selector(f"#entries tr[data-entry='{entry}']")
    # what the change feed set aside, with its error, and the items no bulletin can carry
    row = page.text_content(f"#feed-quarantined tr[data-subject='{make_uscc(8)}']")
    assert "KeyError: 'occurred_on'" in row and "绵阳市某矿业有限公司" in row
    assert "1 set aside" in page.text_content("#feed-summary")
    assert "U+FFFF" in page.text_content(f"#items-quarantined tr[data-item='{item}']")
    page.screenshot(path=str(ARTIFACTS / "console-before.png"), full_page=True)

    page.click(f"#dead tr[data-delivery='{dead}'] button.requeue")
    page.wait_for_selector(f"#dead tr[data-delivery='{dead}']", state="detached")
    assert "dead → pending" in page.text_content("#status")
    assert seed.delivery_state(wired.db, dead) == "pending"

    page.click(f"#entries tr[data-entry='{entry}'] button.action-notify")
    page.wait_for_selector(f"#entries tr[data-entry='{entry}'] td:nth-child(4):text-is('notified')")
    assert "proposed → notified" in page.text_content("#status")
    assert seed.entry_state(wired.db, entry) == "notified"

    page.click("#audit-search")
    page.wait_for_selector("#audit td:text('gateway.api.deliveries.requeue_delivery')")
    page.screenshot(path=str(ARTIFACTS / "console-after.png"), full_page=True)

    with wired.db.read() as conn:
        actions = {r.action: r.actor for r in conn.execute(select(audit_log.c.action, audit_log.c.actor))}
    assert actions["gateway.api.deliveries.requeue_delivery"] == operator.key_id
    assert actions["gateway.api.policy.post_transition"] == operator.key_id


def test_a_partner_key_cannot_log_in(served, browser, wired):
    finance = issue(wired, "finance")
    page = browser.new_page()
    page.goto(served + "/console")
    page.fill("#api_key", finance.token)
    page.click("#login-button")
    page.wait_for_selector("p.error")
    assert "Only operator keys" in page.text_content("p.error")
    assert not [c for c in page.context.cookies() if c["name"] == "gw_console"]


def test_the_console_shows_receipt_conflicts_and_refused_receipts(served, browser, wired, clock):
    from sqlalchemy import insert

    from gateway.delivery import refused_store
    from gateway.store.delivery_tables import receipts

    now = clock.now()
    settled = seed.delivery(wired.db, now, state="acknowledged", error=None, attempts=1)
    with wired.db.write() as conn:
        conn.execute(insert(receipts).values(delivery_id=settled, receipt_id="r-contradicting", received_at=now,
                                             signed=b"<r/>", content_hash="c" * 64, verified=True, duplicate=True,
                                             duplicate_count=0, channel="async", conflict=True))
        refused_store.record(conn, data=b"<r/>", reason="not_the_destination", detail="not destination local's own",
                             now=now, channel="async", delivery_id=settled, destination="local",
                             poster=refused_store.Poster("k-intruder", "91510700MA6XXXXXX0"))
    operator = issue(wired, "operator", days=3650)
    page = browser.new_page(viewport={"width": 1400, "height": 1800})
    page.goto(served + "/console")
    page.fill("#api_key", operator.token)
    page.click("#login-button")
    page.wait_for_selector("body[data-loaded='1']")
    page.wait_for_selector("#conflicts td:text('r-contradicting')")
    assert settled in page.text_content("#conflicts") and "acknowledged" in page.text_content("#conflicts")
    refused = page.text_content("#refused")
    assert "k-intruder" in refused and "not_the_destination" in refused and settled in refused


def test_the_console_shows_its_pictures_in_chromium(served, browser, wired, clock):
    import datetime as dt

    now = clock.now()
    sid = seed.subject(wired.db, 5, now)
    published = seed.record(wired.db, "MY-AJJ", sid, now, publish_by=now.date() + dt.timedelta(days=1))
    seed.record(wired.db, "FC-AJJ", sid, now, publish_by=now.date() - dt.timedelta(days=3))
    seed.delivery(wired.db, now, state="acknowledged", record_uid=published, sent_ago=dt.timedelta(minutes=30))
    for destination in ("local", "credit-china", "credit-china", "mianyang-bank"):
        seed.delivery(wired.db, now, destination=destination, state="pending")
    seed.quarantined_change(wired.db, seed.subject(wired.db, 6, now), now, "KeyError: 'x'")
    operator = issue(wired, "operator", days=3650)
    ARTIFACTS.mkdir(exist_ok=True)

    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    failed: list[str] = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.goto(served + "/console")
    page.fill("#api_key", operator.token)
    page.click("#login-button")
    page.wait_for_selector("body[data-loaded='1']")
    page.wait_for_function("[...document.querySelectorAll('img.chart')].every(i => i.complete && i.naturalWidth > 0)")
    sizes = page.evaluate("[...document.querySelectorAll('img.chart')].map(i => [i.id, i.naturalWidth])")
    assert [s[0] for s in sizes] == ["chart-deliveries", "chart-backlog", "chart-on-time", "chart-feed-lag"]
    assert all(width == 640 for _, width in sizes), sizes
    assert not [u for u in failed if "/charts/" in u], failed
    page.locator("#charts-section").screenshot(path=str(ARTIFACTS / "console-charts.png"))
    assert (ARTIFACTS / "console-charts.png").stat().st_size > 10_000
