"""kill -9 proof of the watchlists: `gateway worker` processes (the change-feed consumer and the
watch dispatcher) killed while subjects are being decided and their changes dispatched, then
one that survives. Every watched subject's change must be planned once, numbered once (the
cursors 1…N, no gap, no repeat) and carried by exactly one signed bulletin.

It can fail: a change planned twice is a second row, one lost is a subject without a row, one
dispatched twice is a second bulletin item, one numbered twice breaks the cursor sequence;
and the kills are shown to have landed while a consumer held leased rows and while planned
changes waited to be dispatched."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from gateway.access import keys
from gateway.store.change_tables import subject_changes
from gateway.store.db import Database
from gateway.store.delivery_tables import bulletin_items
from gateway.store.policy_tables import list_entries
from gateway.store.tables import subjects
from gateway.store.watch_tables import watch_changes
from tests.changes.test_change_feed_processes import ROOT, _consumer, _fresh_db
from tests.factories import make_uscc, penalty

SUBJECTS = 1000
BANK = make_uscc(71000002, division="510700")
DESTINATION = "bank-watch"


def _count(db: Database, table, *where) -> int:  # noqa: ANN001
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _load(db: Database, tmp_path: Path) -> dict[str, str]:
    """Records decided once (every subject has a standing), a bank's webhook watchlist of them
    all, then a joint punishment entry published for each: SUBJECTS changes to plan."""
    from gateway.bootstrap import build
    from gateway.changes import feed
    from gateway.config import load_settings
    from gateway.delivery.destinations import load_destinations
    from gateway.intake import repository as intake_repo

    dest = tmp_path / "destinations.yaml"
    dest.write_text(yaml.safe_dump({"destinations": {DESTINATION: {
        "adapter": "adapters.bureaus:factory",
        "options": {"url": "http://127.0.0.1:9/webhook", "secret": "s", "partner": BANK},
        "subscription": {"sector": "finance", "item_kinds": ["watch"]}}}}))
    env = {**os.environ, "GATEWAY_DATABASE_URL": db.url, "GATEWAY_DESTINATIONS_FILE": str(dest),
           "GATEWAY_KEYS_DIR": str(tmp_path / "keys"), "GATEWAY_AUTO_MIGRATE": "false", "GATEWAY_LOG_LEVEL": "WARNING",
           "GATEWAY_CHANGE_FEED_LEASE_SECONDS": "3", "GATEWAY_CHANGE_FEED_BATCH_SIZE": "20",
           "GATEWAY_WATCH_DISPATCH_INTERVAL_SECONDS": "0.3", "PYTHONPATH": str(ROOT)}
    env.pop("GATEWAY_CONFIG_FILE", None)
    settings = load_settings(database_url=db.url, keys_dir=tmp_path / "keys")
    services = build(settings, db=db, destinations=load_destinations(dest, keys_dir=tmp_path / "keys"))
    now = services.clock.now()
    codes = [make_uscc(30000 + i) for i in range(SUBJECTS)]
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=now)
        partner_id = keys.add_partner(conn, uscc_code=BANK, name="某银行", sector="finance", now=now)
    today = dt.date.today()
    assert services.intake.submit("MY-AJJ", [penalty(f"P{i}", c, decided=(today - dt.timedelta(days=9)).isoformat())
                                             for i, c in enumerate(codes)]).counts()["rejected"] == 0
    services.consumer.drain()
    bank = keys.Principal(key_id="k-test", kind="api_key", partner_id=partner_id, organisation=BANK, name="某银行",
                          sector="finance", agency_code=None, scopes=keys.SECTOR_SCOPES["finance"])
    services.watchlists.create(bank, name="all", mode="webhook", destination=DESTINATION,
                               subjects=[(c, None) for c in codes])
    with db.write() as conn:
        ids = {r.key: r.id for r in conn.execute(select(subjects.c.key, subjects.c.id))}
        conn.execute(list_entries.insert(), [{
            "uid": "ent_" + uuid.uuid4().hex, "subject_id": ids[c], "list_kind": "joint_punishment",
            "state": "published", "open_key": "joint_punishment:test", "cases": ["unlicensed_operation"],
            "record_uids": [], "reasons": [{"case": "jp02_unlicensed_operation", "text_zh": "未取得安全生产许可擅自生产经营",
                                            "source": "001 §三(一)3"}],
            "profile": settings.policy_profile, "starts_on": today - dt.timedelta(days=1),
            "expires_on": today + dt.timedelta(days=365), "created_at": now, "updated_at": now} for c in codes])
        feed.enqueue(conn, list(ids.values()), now, "test")
    services.close()
    return env


def _settled(db: Database) -> bool:
    return (_count(db, subject_changes) == 0 and _count(db, watch_changes) == SUBJECTS
            and _count(db, watch_changes, watch_changes.c.bulletin_id.is_(None)) == 0)


@pytest.mark.slow
def test_kill_9_workers_plan_number_and_send_each_watch_change_exactly_once(tmp_path):
    db, drop = _fresh_db(tmp_path, "watch")
    try:
        env = _load(db, tmp_path)
        log = tmp_path / "workers.log"
        rng = random.Random(11)
        leased_at_kill = undispatched_at_kill = 0
        for k in range(8):
            name = f"doomed-{k}"
            proc = _consumer(env, log, name)
            before = _count(db, subject_changes)
            deadline = time.monotonic() + 60
            while _count(db, subject_changes) == before and time.monotonic() < deadline:
                time.sleep(0.05)  # it has started deciding: kill it in the middle
            time.sleep(rng.uniform(0.0, 0.25))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            with db.read() as conn:
                leased_at_kill += conn.execute(select(func.count()).select_from(subject_changes)
                                               .where(subject_changes.c.lease_owner == name)).scalar_one() > 0
            undispatched_at_kill += _count(db, watch_changes, watch_changes.c.bulletin_id.is_(None)) > 0
            if _count(db, subject_changes) < 100:  # keep some work for the survivor
                break
        print(f"kills with a leased batch: {leased_at_kill}, with changes waiting to be sent: {undispatched_at_kill}")
        assert leased_at_kill >= 2, "the kills did not land while a consumer held a batch"
        assert undispatched_at_kill >= 1, "no kill landed while planned changes waited to be sent"

        survivor = _consumer(env, log, "survivor")
        try:
            deadline = time.monotonic() + 240
            while not _settled(db) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _settled(db), log.read_text()[-3000:]
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(30)

        with db.read() as conn:
            rows = list(conn.execute(select(watch_changes)))
            items = Counter(r.item_id for r in conn.execute(select(bulletin_items.c.item_id)
                                                            .where(bulletin_items.c.kind == "watch.change")))
            carried = {r.item_id: r.bulletin_id for r in conn.execute(select(bulletin_items))}
        assert len({r.subject_key for r in rows}) == SUBJECTS == len(rows), "a change lost or planned twice"
        assert all("listed:joint_punishment" in r.body["changes"] for r in rows)
        assert sorted(r.cursor for r in rows) == list(range(1, SUBJECTS + 1)), "a cursor skipped or repeated"
        assert len(items) == SUBJECTS and max(items.values()) == 1, "a change went out in two bulletins"
        assert all(carried[f"wc-{r.cursor}"] == r.bulletin_id for r in rows)
    finally:
        if drop is not None:
            drop()
        else:
            db.dispose()
