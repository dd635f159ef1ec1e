"""Bulk loading for the query benchmarks: N subjects as the gateway holds them, fast.

Each subject has one penalty record and the decisions and standing the change-feed consumer
writes for it.
One template subject goes through the real path (intake, the consumer) and its stored
standing is copied for the others with their own code and record id (same shape, same size,
its digest recomputed); every `listed_every`-th subject also gets a violation record that
lists it, decided by the consumer, and its proposed entry walked to publication by the policy
service, so those standings are restricted the real way. PostgreSQL is loaded with COPY.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from typing import Any

from sqlalchemy import select, text

from gateway.store.policy_tables import decisions, standings
from gateway.store.tables import records, subjects
from tests.factories import make_uscc, penalty

CHUNK = 20_000


def _code(i: int) -> str:
    return make_uscc(i % 100_000_000, division="510703")


def bench_services(url: str, keys_dir: Any) -> Any:
    from gateway.bootstrap import build
    from gateway.config import load_settings
    from gateway.delivery.destinations import DestinationRegistry
    from gateway.store import migrate
    from gateway.store.db import Database

    db = Database(url)
    migrate.upgrade(db)
    return build(load_settings(database_url=url, keys_dir=keys_dir), db=db,
                 destinations=DestinationRegistry({}, keys_dir=keys_dir))


def load(services: Any, n: int, *, listed_every: int = 1000, log: Any = print) -> dict[str, Any]:
    from gateway.intake import repository as intake_repo

    db = services.db
    now = services.clock.now()
    t0 = time.perf_counter()
    with db.write() as conn:
        agency_id = intake_repo.upsert_agency(conn, code="MY-AJJ", name="绵阳市应急管理局", region="510700",
                                              level="city", uscc=None, now=now)
    decided = (dt.date.today() - dt.timedelta(days=20)).isoformat()
    template_code = _code(1)
    services.intake.submit("MY-AJJ", [penalty("P1", template_code, decided=decided)])
    services.consumer.drain()
    with db.read() as conn:
        t_subject = conn.execute(select(subjects).where(subjects.c.key == template_code)).one()
        t_record = conn.execute(select(records).where(records.c.subject_id == t_subject.id)).one()
        t_standing = conn.execute(select(standings).where(standings.c.subject_id == t_subject.id)).one()
        t_decision = conn.execute(select(decisions).where(decisions.c.subject_id == t_subject.id)).one()
    body_text = json.dumps(t_standing.body, ensure_ascii=False, sort_keys=True)
    decision_text = json.dumps(t_decision.body, ensure_ascii=False, sort_keys=True)
    data_text = json.dumps(t_record.data, ensure_ascii=False, sort_keys=True)
    pg = db.dialect == "postgresql"
    with db.read() as conn:
        next_id = conn.execute(text("SELECT max(id) FROM subjects")).scalar_one() + 1
    codes = [template_code]
    for start in range(2, n + 1, CHUNK):
        rows_s, rows_r, rows_st, rows_d = [], [], [], []
        for i in range(start, min(n, start + CHUNK - 1) + 1):
            code = _code(i)
            codes.append(code)
            sid = next_id
            next_id += 1
            uid = f"rec_{i:032x}"
            body = body_text.replace(template_code, code).replace(t_record.uid, uid)
            rows_s.append((sid, code, code, "legal_person", f"绵阳市测试企业{i}有限公司", "510703", None, now, now))
            rows_r.append((uid, sid, agency_id, f"P{i}", "penalty", 1, "current", "publish", "0" * 64,
                           data_text.replace(template_code, code), "510703", t_record.event_date,
                           t_record.publish_by, False, now))
            rows_st.append((sid, t_standing.profile, t_standing.as_of, False, 1,
                            hashlib.sha256(body.encode()).hexdigest(), t_standing.next_change_on, now, now, body))
            decided_body = decision_text.replace(template_code, code).replace(t_record.uid, uid)
            rows_d.append((sid, t_decision.profile, t_decision.as_of, now, now, now,
                           hashlib.sha256(decided_body.encode()).hexdigest(), decided_body, t_decision.star_attention))
        _insert(db, pg, rows_s, rows_r, rows_st, rows_d)
        if (start // CHUNK) % 25 == 0:
            log(f"  loaded {len(codes):,} subjects ({time.perf_counter() - t0:.0f} s)")
    if pg:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('subjects', 'id'), (SELECT max(id) FROM subjects))"))
            conn.execute(text("ANALYZE"))
    listed = codes[listed_every - 1::listed_every] if n >= listed_every else codes[:1]
    _list(services, listed)
    return {"codes": codes, "listed": listed, "load_seconds": time.perf_counter() - t0}


def _insert(db: Any, pg: bool, rows_s: list[tuple], rows_r: list[tuple], rows_st: list[tuple],
            rows_d: list[tuple]) -> None:
    s_cols = ("id", "key", "uscc", "category", "name", "region", "display_id", "created_at", "changed_at")
    r_cols = ("uid", "subject_id", "agency_id", "source_record_id", "kind", "version", "status", "action",
              "content_hash", "data", "region", "event_date", "publish_by", "publish_by_estimated", "received_at")
    st_cols = ("subject_id", "profile", "as_of", "restricted", "version", "digest", "next_change_on", "computed_at",
               "checked_at", "body")
    d_cols = ("subject_id", "profile", "as_of", "computed_at", "checked_at", "subject_changed_at", "digest", "body",
              "star_attention")
    if pg:
        with db.engine.begin() as conn:
            raw = conn.connection.driver_connection
            with raw.cursor() as cur:
                for table, cols, rows in (("subjects", s_cols, rows_s), ("records", r_cols, rows_r),
                                          ("standings", st_cols, rows_st), ("decisions", d_cols, rows_d)):
                    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
        return
    with db.write() as conn:
        conn.execute(subjects.insert(), [dict(zip(s_cols, r, strict=True)) for r in rows_s])
        conn.execute(records.insert(), [{**dict(zip(r_cols, r, strict=True)), "data": json.loads(r[9])} for r in rows_r])
        conn.execute(standings.insert(), [{**dict(zip(st_cols, r, strict=True)), "body": json.loads(r[9])}
                                          for r in rows_st])
        conn.execute(decisions.insert(), [{**dict(zip(d_cols, r, strict=True)), "body": json.loads(r[7])}
                                          for r in rows_d])


def _list(services: Any, codes: list[str]) -> None:
    """A listing violation for each, decided by the consumer, its entry walked to publication."""
    from tests.factories import violation

    recent = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    for part in range(0, len(codes), 500):
        services.intake.submit("MY-AJJ", [violation(f"V{i}", code, "jp02_unlicensed_operation", recent)
                                          for i, code in enumerate(codes[part:part + 500], part)])
    services.consumer.drain()
    proposed, _ = services.policy.entries(state="proposed", limit=len(codes) * 2 + 10)
    for entry in proposed:
        for action in ("notify", "confirm", "publish"):
            services.policy.transition(entry["id"], action, "bench-operator",
                                       argument="waived" if action == "confirm" else None)
    services.consumer.drain()


def partner_token(services: Any, sector: str = "land") -> str:
    from gateway.access import keys
    from gateway.access.testing import partner_uscc

    now = services.clock.now()
    with services.db.write() as conn:
        try:
            keys.get_partner(conn, partner_uscc(sector))
        except keys.AccessError:
            keys.add_partner(conn, uscc_code=partner_uscc(sector), name=f"bench {sector}", sector=sector, now=now)
        return keys.issue_key(conn, partner_uscc=partner_uscc(sector), now=now, days=2).token
