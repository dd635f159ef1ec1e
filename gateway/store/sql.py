"""Small dialect helpers shared by the repositories."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Connection, Executable, String, Table, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite

CHUNK = 900  # stays under SQLite's and psycopg's parameter limits with room to spare


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]) -> None:
    """INSERT … ON CONFLICT (conflict) DO NOTHING, for many rows, on either database."""
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    executemany(conn, ("insert-ignore", table, tuple(conflict)),
                lambda: dialect.insert(table).on_conflict_do_nothing(index_elements=list(conflict)), rows)


def insert_many(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert many rows with the driver's executemany (psycopg 3 pipelines it; measured at
    twice the rows/s of SQLAlchemy's RETURNING-based "insertmanyvalues" here)."""
    if rows:
        executemany(conn, ("insert", table), table.insert, rows)


class _Plan(NamedTuple):
    """A statement compiled once for one dialect and one set of row keys (`executemany`)."""

    sql: str
    names: tuple[str, ...]  # the bind parameters, in the statement's order when it is positional
    positional: bool
    from_row: tuple[bool, ...]  # per name: taken from each row, else a constant of the statement
    constants: tuple[Any, ...]  # per name: its converted value when constant
    processors: tuple[Callable[[Any], Any] | None, ...]  # per name: the type's conversion to the driver


_PLANS: dict[tuple[Any, ...], _Plan | None] = {}


def _plan(conn: Connection, key: Hashable, make: Callable[[], Executable], row: dict[str, Any]) -> _Plan | None:
    dialect = conn.dialect
    cache_key = (key, tuple(row), dialect.name, dialect.driver, dialect.paramstyle)
    if cache_key in _PLANS:
        return _PLANS[cache_key]
    compiled = make().compile(dialect=dialect, column_keys=list(row))
    plan = None
    # Python-side column defaults are computed per row by SQLAlchemy's execution: not here
    if not compiled.insert_prefetch and not compiled.update_prefetch:
        # public: the final SQL, the parameters' order and the statement's own constants
        state = compiled.construct_expanded_state(dict(row))
        names = tuple(state.positiontup if compiled.positional else state.parameters)
        from_row = tuple(name in row for name in names)
        procs = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        constants = tuple(None if taken or (v := state.parameters[name]) is None else (p(v) if p else v)
                          for name, taken, p in zip(names, from_row, procs, strict=True))
        plan = _Plan(state.statement, names, compiled.positional, from_row, constants, procs)
    _PLANS[cache_key] = plan
    return plan


def executemany(conn: Connection, key: Hashable, make: Callable[[], Executable],
                rows: Sequence[dict[str, Any]]) -> None:
    """`conn.execute(make(), rows)`, for rows that all have the same keys, with SQLAlchemy's
    per-row work done once per column instead of once per value.

    SQLAlchemy builds and converts every parameter of every row generically; for the bulk
    writes of an upload (thousands of rows, many sharing a value such as `now`) that was
    several times the driver's own time (docs/notes.md, "Where an upload's time goes"). Here
    the statement is compiled once per `key`, dialect and row keys (its SQL and order from
    `SQLCompiler.construct_expanded_state`, each parameter's conversion from its type's
    `bind_processor`, all public SQLAlchemy API), each column converts a value repeated
    from the row before once (`driver_parameters`), and the rows go to the
    driver's executemany through `Connection.exec_driver_sql` (events, logging and the
    transaction are SQLAlchemy's as always). A statement whose execution would compute
    Python-side defaults takes `conn.execute` itself (so do rows whose keys differ, which
    SQLAlchemy refuses as it always did).
    """
    if not rows:
        return
    driver = driver_parameters(conn, key, make, rows)
    if driver is None:
        conn.execute(make(), list(rows))
    else:
        conn.exec_driver_sql(*driver)


def driver_parameters(conn: Connection, key: Hashable, make: Callable[[], Executable],
                      rows: Sequence[dict[str, Any]]) -> tuple[str, list[Any]] | None:
    """The statement's SQL and the rows as the driver takes them (`executemany`), or None
    when SQLAlchemy's own execution is needed (Python-side defaults, rows with other keys)."""
    first = rows[0]
    plan = _plan(conn, key, make, first)
    if plan is None or any(r.keys() != first.keys() for r in rows):
        return None
    columns = []
    for name, taken, constant, proc in zip(plan.names, plan.from_row, plan.constants, plan.processors, strict=True):
        if not taken:
            columns.append([constant] * len(rows))
            continue
        values = [r[name] for r in rows]
        if proc is not None:
            last, last_out = object(), None
            out = []
            for v in values:
                if v is not last:
                    last, last_out = v, (None if v is None else proc(v))
                out.append(last_out)
            values = out
        columns.append(values)
    if plan.positional:
        return plan.sql, list(zip(*columns, strict=True))
    return plan.sql, [dict(zip(plan.names, values, strict=True)) for values in zip(*columns, strict=True)]


def one_of(conn: Connection, column: ColumnElement[Any], values: Iterable[str | int]) -> Iterator[ColumnElement[bool]]:
    """`column IN values` as conditions for as few statements as the database allows.

    On SQLite one, whatever the number of values: the values sorted as one JSON array
    parameter read by `json_each`, which the planner reads as a list probed in the column's
    index (`SEARCH ... USING INDEX`, tests/intake/test_upload_statements.py). No parameter
    limit, one cached statement, and no expanded IN list rendered and bound per call (the
    storage of a 5,000-row upload 1-14 us a row faster, median 5, in four alternating rounds).
    Elsewhere one condition per `CHUNK` values (an IN list)."""
    wanted = sorted(set(values))
    if not wanted:
        return
    if conn.dialect.name == "sqlite":
        listed = func.json_each(bindparam(None, json.dumps(wanted), type_=String)).table_valued("value")
        yield column.in_(select(listed.c.value))
        return
    for part in chunks(wanted):
        yield column.in_(part)


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
                executemany(conn, (op, table, spec, columns), lambda stmt=stmt: stmt, part)
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
