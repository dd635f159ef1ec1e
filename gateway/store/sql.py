"""Small dialect helpers shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite

CHUNK = 900  # stays under SQLite's and psycopg's parameter limits with room to spare


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, for many rows, on either database."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict)), list(rows))


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows with the driver's executemany (psycopg 3 pipelines it; measured at
    twice the rows/s of SQLAlchemy's RETURNING-based "insertmanyvalues" here)."""
    if rows:
        conn.execute(table.insert(), list(rows))


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Deferred:
    """Inserts and updates gathered across a consumer batch, written by one executemany per
    table and statement shape instead of one statement per subject (`flush`).

    Nothing the batch reads is ever deferred: only rows nobody reads back before the commit (decisions, standings,
    publication items). When the flush fails, the caller rolls the batch back and decides it
    again without deferring (`gateway.changes.consumer`)."""

    def __init__(self) -> None:
        self._groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def insert_ignore(self, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]) -> None:
        for row in rows:
            self._groups.setdefault(("insert", table, tuple(conflict), tuple(row)), []).append(row)

    def update(self, table: Table, key: str, key_value: Any, values: dict[str, Any]) -> None:
        """UPDATE table SET values WHERE key = key_value (values are plain values, no expressions)."""
        self._groups.setdefault(("update", table, key, tuple(values)), []).append(
            {"_k": key_value, **{f"_v_{c}": v for c, v in values.items()}})

    def flush(self, conn: Connection) -> None:
        for (op, table, spec, columns), params in self._groups.items():
            if op == "insert":
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=list(spec))
            else:
                stmt = (table.update().where(table.c[spec] == bindparam("_k"))
                        .values({c: bindparam(f"_v_{c}") for c in columns}))
            for part in chunks(params, 500):
                conn.execute(stmt, part)
        self._groups.clear()


def write_insert_ignore(conn: Connection, writes: Deferred | None, table: Table, rows: Sequence[dict[str, Any]],
                        conflict: Sequence[str]) -> None:
    """`insert_ignore` now, or deferred to the batch's `writes` when there is one."""
    if writes is None:
        insert_ignore(conn, table, rows, conflict)
    else:
        writes.insert_ignore(table, rows, conflict)


def write_update(conn: Connection, writes: Deferred | None, table: Table, key: str, key_value: Any,
                 values: dict[str, Any]) -> None:
    """UPDATE … WHERE key = key_value now, or deferred to the batch's `writes`."""
    if writes is None:
        conn.execute(table.update().where(table.c[key] == key_value).values(values))
    else:
        writes.update(table, key, key_value, values)
