"""On PostgreSQL, an upload's lookup of its records' latest versions reads only the rows asked
for, under the plan the server picks for it however stale the table's statistics.

psycopg prepares a statement on its fifth run on a connection, and PostgreSQL may then plan
it once for every run (a generic plan). On a records table not analysed since a large import
(`reltuples` -1, every estimate one row), the generic plan of `JOIN unnest(:ids)` was a
nested loop comparing every record of the agency with every id: 17 s for 5,000 ids against
40,000 records (`bench/intake.py`'s third round on PostgreSQL ran at 120-350 records/s
instead of 3,200). The test takes the statement the API's import ran, prepares it, and
explains it with the generic plan forced and with the custom plan forced."""

from __future__ import annotations

import json
import re

import pytest
from psycopg import sql as pgsql
from sqlalchemy import event

from tests.intake.test_platform_exports import HEADER_2021, csv_bytes, row_2021, upload

STORED = 1_500  # records of the agency already stored (none analysed)


def _row(i: int) -> list[str]:
    row = row_2021(i % 8)  # eight subjects, a decision number of its own per record
    row[2] = f"绵应急罚〔2025〕{i}号"
    return row


def _plan_nodes(node: dict):  # noqa: ANN202
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


def _explain(conn, statement: str, params: dict, mode: str) -> dict:  # noqa: ANN001
    order: list[str] = []

    def positional(match: re.Match) -> str:
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    prepared = re.sub(r"%\((\w+)\)s", positional, statement)
    raw = conn.connection.driver_connection
    with raw.cursor() as cur:
        cur.execute(f"PREPARE lookup AS {prepared}")
        cur.execute(f"SET plan_cache_mode = {mode}")
        args = pgsql.SQL(", ").join(pgsql.Literal(params[name]) for name in order).as_string(raw)
        cur.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE lookup({args})")
        plan = cur.fetchone()[0]
        cur.execute("RESET plan_cache_mode")
        cur.execute("DEALLOCATE lookup")  # the connection goes back to the pool as it came
    return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]


def test_the_latest_versions_lookup_reads_only_the_rows_asked_for_under_a_generic_plan(
        client, services, agency_with_uscc):
    if services.db.dialect != "postgresql":
        pytest.skip("PostgreSQL's plans")
    for start in range(0, STORED, 500):
        body = upload(client, csv_bytes(HEADER_2021, [_row(i) for i in range(start, start + 500)]))
        assert body["counts"]["accepted"] == 500, body["counts"]
    seen: list[tuple[str, dict]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001, ARG001
        # the lookup: a SELECT of records given the file's decision numbers as one array
        if statement.lstrip().startswith("SELECT") and "FROM records" in statement and any(
                isinstance(v, list) and "绵应急罚〔2025〕1490号" in v for v in dict(parameters).values()):
            seen.append((statement, dict(parameters)))

    event.listen(services.db.engine, "before_cursor_execute", capture)
    try:  # ten new records and ten stored ones, in one file
        again = upload(client, csv_bytes(HEADER_2021, [_row(i) for i in range(STORED - 10, STORED + 10)]))
    finally:
        event.remove(services.db.engine, "before_cursor_execute", capture)
    assert (again["counts"]["accepted"], again["counts"]["duplicate"]) == (10, 10), again["counts"]
    assert len(seen) == 1, [s for s, _ in seen]
    statement, params = seen[0]

    with services.db.read() as conn:
        for mode in ("force_generic_plan", "force_custom_plan"):
            nodes = list(_plan_nodes(_explain(conn, statement, params, mode)))
            read = sum(n["Actual Rows"] * n["Actual Loops"] for n in nodes if n.get("Relation Name") == "records")
            removed = sum(n.get("Rows Removed by Filter", 0) + n.get("Rows Removed by Join Filter", 0)
                          for n in nodes)
            assert read <= 20 and removed <= 20, (mode, read, removed, json.dumps(nodes[0], indent=1)[:3000])
