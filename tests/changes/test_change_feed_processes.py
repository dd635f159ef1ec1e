"""kill -9 proof of the change feed: `gateway worker` consumers killed in the middle of their
batches, then one that survives; what they leave (standings, decisions, list entries and their
events, publication items) is compared with a run that nobody killed, on the same records.

The comparison can fail: a batch applied twice leaves a second event or a second item, a
batch lost leaves a subject without its standing or an item missing, and the kills are shown
to have landed while a consumer held leased rows."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from sqlalchemy import create_engine, func, select, text

from gateway.store import migrate
from gateway.store.change_tables import subject_changes
from gateway.store.db import Database
from gateway.store.policy_tables import decisions, list_entries, list_entry_events, standings
from gateway.store.publication_tables import publication_items
from gateway.store.tables import agencies, records, subjects
from tests.conftest import PG_URL, _pg_url
from tests.factories import accident, make_uscc, penalty

ROOT = Path(__file__).resolve().parents[2]
SUBJECTS = 1500
UID = re.compile(r"\b(rec|ent)_[0-9a-f]{32}\b")
LAYOUT = {"platform": {"sector": "platform"}, "land": {"sector": "land", "item_kinds": ["list"]},
          "agency": {"sector": "agency"}}


def _fresh_db(tmp_path: Path, name: str) -> tuple[Database, object]:
    if not PG_URL:
        db = Database(f"sqlite:///{tmp_path / name}.db")
        migrate.upgrade(db)
        return db, None
    base = _pg_url(PG_URL)
    schema = f"gw_kill_{name}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    db = Database(f"{base}{sep}options={quote(f'-csearch_path={schema}')}")
    migrate.upgrade(db)

    def drop() -> None:
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return db, drop


def _records() -> list[dict]:
    """A mix: penalties for most, three fatal accidents (a joint punishment proposal) for one in ten."""
    today = dt.date.today()
    out = []
    for i in range(SUBJECTS):
        code = make_uscc(20000 + i)
        if i % 10 == 0:
            for k, days in enumerate((200, 100, 30)):
                out.append(accident(f"A{i}-{k}", code, (today - dt.timedelta(days=days)).isoformat()))
        else:
            out.append(penalty(f"P{i}", code, decided=(today - dt.timedelta(days=5 + i % 40)).isoformat()))
    return out


def _load(db: Database, tmp_path: Path) -> dict[str, str]:
    """Agencies and records in; every subject in the feed, as intake leaves them."""
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.intake import repository as intake_repo

    dest = tmp_path / "destinations.yaml"
    dest.write_text(yaml.safe_dump({"destinations": {
        name: {"adapter": "adapters.local:factory", "subscription": spec,
               "options": {"record_file": str(tmp_path / f"{name}.jsonl")}} for name, spec in LAYOUT.items()}}))
    env = {**os.environ, "GATEWAY_DATABASE_URL": db.url, "GATEWAY_DESTINATIONS_FILE": str(dest),
           "GATEWAY_KEYS_DIR": str(tmp_path / "keys"), "GATEWAY_AUTO_MIGRATE": "false", "GATEWAY_LOG_LEVEL": "WARNING",
           "GATEWAY_CHANGE_FEED_LEASE_SECONDS": "3", "GATEWAY_CHANGE_FEED_BATCH_SIZE": "100", "PYTHONPATH": str(ROOT)}
    env.pop("GATEWAY_CONFIG_FILE", None)
    settings = load_settings(database_url=db.url, keys_dir=tmp_path / "keys")
    services = build(settings, db=db)
    with db.write() as conn:
        intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700", level="city",
                                  uscc=None, now=services.clock.now())
    result = services.intake.submit("MY-AJJ", _records())
    assert result.counts()["rejected"] == 0
    return env


def _consumer(env: dict[str, str], log: Path, name: str) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from gateway.cli import main; sys.exit(main())", "worker",
           "--no-delivery", "--worker-id", name, "--poll-interval", "0.05"]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(log, "a"), stderr=subprocess.STDOUT)  # noqa: SIM115


def _count(db: Database, table) -> int:  # noqa: ANN001
    with db.read() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _wait_empty(db: Database, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _count(db, subject_changes) == 0 and _count(db, standings) == SUBJECTS:
            return True
        time.sleep(0.2)
    return False


def fingerprint(db: Database) -> dict[str, object]:
    """Everything the consumers wrote, with the random uids of records and entries replaced by
    what they stand for (agency, source record, version; subject, list, cases)."""
    with db.read() as conn:
        key = {r.id: r.key for r in conn.execute(select(subjects.c.id, subjects.c.key))}
        code = {r.id: r.code for r in conn.execute(select(agencies.c.id, agencies.c.code))}
        names = {r.uid: f"rec<{code[r.agency_id]}/{r.source_record_id}/{r.version}>"
                 for r in conn.execute(select(records.c.uid, records.c.agency_id, records.c.source_record_id,
                                              records.c.version))}
        entry_rows = list(conn.execute(select(list_entries)))
        names |= {e.uid: f"ent<{key[e.subject_id]}/{e.list_kind}/{','.join(e.cases)}>" for e in entry_rows}

        def norm(value: object) -> str:
            return UID.sub(lambda m: names.get(m[0], m[0]), json.dumps(value, sort_keys=True, ensure_ascii=False,
                                                                       default=str))

        entries = sorted(norm([key[e.subject_id], e.list_kind, e.cases, e.state,
                               sorted(names.get(u, u) for u in e.record_uids)]) for e in entry_rows)
        by_id = {e.id: names[e.uid] for e in entry_rows}
        events = Counter((by_id[ev.entry_id], ev.action) for ev in conn.execute(select(list_entry_events)))
        item_rows = list(conn.execute(select(publication_items)))
        source = {i.item_id: norm(i.source_key) for i in item_rows}
        items = Counter(norm([i.destination, i.kind, i.subject, i.fields]) + source[i.item_id]
                        + source.get(i.ref_item_id or "", "") for i in item_rows)
        stored = {key[s.subject_id]: (s.restricted, s.version, norm({k: v for k, v in s.body.items()
                                                                     if k not in ("as_of", "next_change_on")}))
                  for s in conn.execute(select(standings))}
        decided = {key[d.subject_id]: norm({k: v for k, v in d.body.items() if k != "as_of"})
                   for d in conn.execute(select(decisions))}
    return {"entries": entries, "events": events, "items": items, "standings": stored, "decisions": decided}


@pytest.mark.slow
def test_kill_9_consumers_mid_batch_lose_nothing_and_apply_nothing_twice(tmp_path):
    for name in ("control", "killed"):
        (tmp_path / name).mkdir()
    control_db, drop_control = _fresh_db(tmp_path / "control", "control")
    killed_db, drop_killed = _fresh_db(tmp_path / "killed", "killed")
    try:
        control_env = _load(control_db, tmp_path / "control")
        killed_env = _load(killed_db, tmp_path / "killed")
        log = tmp_path / "consumers.log"

        survivor = _consumer(control_env, log, "control")
        try:
            assert _wait_empty(control_db, 240), log.read_text()[-3000:]
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(30)

        rng = random.Random(7)
        landed = 0
        for k in range(4):
            name = f"doomed-{k}"
            proc = _consumer(killed_env, log, name)
            before = _count(killed_db, standings)
            deadline = time.monotonic() + 60
            while _count(killed_db, standings) == before and time.monotonic() < deadline:
                time.sleep(0.05)  # it has started deciding: now kill it in the middle of a batch
            time.sleep(rng.uniform(0.0, 0.3))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            with killed_db.read() as conn:
                leased = conn.execute(select(func.count()).select_from(subject_changes)
                                      .where(subject_changes.c.lease_owner == name)).scalar_one()
            landed += leased > 0
            assert _count(killed_db, standings) < SUBJECTS, "the kill came too late to prove anything"
        assert landed >= 2, "the kills did not land while a consumer held a batch"

        survivor = _consumer(killed_env, log, "survivor")
        try:
            assert _wait_empty(killed_db, 240), log.read_text()[-3000:]
        finally:
            survivor.send_signal(signal.SIGTERM)
            survivor.wait(30)

        expected, got = fingerprint(control_db), fingerprint(killed_db)
        assert len(got["standings"]) == SUBJECTS and got["entries"]
        assert max(got["events"].values()) == 1, "an entry's step was recorded twice"
        for part in ("standings", "decisions", "entries", "events", "items"):
            assert got[part] == expected[part], part
    finally:
        for db, drop in ((control_db, drop_control), (killed_db, drop_killed)):
            if drop is not None:
                drop()
            elif db is not None:
                db.dispose()
