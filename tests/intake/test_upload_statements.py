"""On SQLite, an upload's lookups (the records' latest versions, the subjects by key and by
identifier, their sectors) are one statement each however many rows the file has: the values
travel as one JSON array parameter read by `json_each`, not as an IN list of 900 parameters a
statement, each expanded, rendered and bound anew. And each lookup still searches an index.

As IN lists, the storage of a 5,000-row file took 1-14 us a row more (median 5, four rounds
alternating the two on this machine): rendering and binding the expanded parameters."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.factories import make_uscc
from tests.intake.test_platform_exports import HEADER_2021, csv_bytes, row_2021, upload


def _rows(n: int, start: int) -> list[list[str]]:
    rows = []
    for i in range(start, start + n):  # a subject of its own per row
        row = row_2021(0)
        row[0], row[1], row[2] = f"绵阳市{i}号化工有限公司", make_uscc(30_000 + i), f"绵应急罚〔2025〕{i}号"
        rows.append(row)
    return rows


def _upload_statements(client, services, rows) -> list[tuple[str, object]]:  # noqa: ANN001
    seen: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001, PLR0913
        seen.append((statement, parameters))

    event.listen(services.db.engine, "before_cursor_execute", listen)
    try:
        body = upload(client, csv_bytes(HEADER_2021, rows))
    finally:
        event.remove(services.db.engine, "before_cursor_execute", listen)
    assert body["counts"]["accepted"] == len(rows), body["counts"]
    return seen


def test_an_uploads_lookups_are_one_statement_each_whatever_its_size(client, services, agency_with_uscc,
                                                                     monkeypatch):
    if services.db.dialect != "sqlite":
        pytest.skip("PostgreSQL takes the values 900 a statement (the latest versions as one array, "
                    "tests/intake/test_pg_lookup_plans.py)")
    monkeypatch.setattr(services.consumer, "drain", lambda *args, **kwargs: None)  # only the upload's own
    _upload_statements(client, services, _rows(5, 0))  # first-request work out of the way

    small = _upload_statements(client, services, _rows(100, 100))
    large = _upload_statements(client, services, _rows(2_500, 1_000))  # ~3 statements a lookup as IN lists

    def selects(statements) -> list[str]:  # noqa: ANN001
        return [s for s, _ in statements if s.lstrip().upper().startswith("SELECT")]

    assert len(selects(large)) == len(selects(small)), (selects(small), selects(large))
    assert len(large) == len(small)

    raw = services.db.engine.raw_connection()
    try:
        lookups = [(s, p) for s, p in large if "json_each" in s]
        assert len(lookups) >= 4, selects(large)  # latest versions, subjects by key (twice), identifiers
        for statement, parameters in lookups:
            plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            scans = [step for step in plan if step.startswith("SCAN") and "VIRTUAL TABLE" not in step]
            assert not scans, (statement, plan)
    finally:
        raw.close()
