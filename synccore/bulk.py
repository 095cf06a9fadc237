"""Executemany of many rows given as tuples: on SQLite straight to the driver; plain INSERTs
on PostgreSQL by COPY.

SQLAlchemy processes each row's parameters in Python (a dictionary per row, then every value
looked up and passed through its type's bind processor); for the hundred thousand albums of a
first sync that cost more than SQLite's own `executemany` (see the README's Performance
section). On SQLite the statement is compiled once and the rows go to the driver as tuples,
with only the values whose column type has a bind processor (dates, JSON, booleans) converted,
by the same processors SQLAlchemy would use.

On PostgreSQL, `insert_rows` sends the rows of a plain INSERT as one `COPY ... FROM STDIN`
stream in the session's transaction: psycopg's pipelined executemany still has the server
parse, plan and run one INSERT per row. Other statements (UPDATEs, upserts) keep SQLAlchemy's
path. `among` gives PostgreSQL a batch's keys as one array parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import ColumnElement, DateTime, Table, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import ValuesBase

if TYPE_CHECKING:
    import psycopg


def execute_rows(
    session: Session, statement: ValuesBase, keys: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Run an INSERT or UPDATE once per row; `keys` name each row's values in order (as the
    keys of the dictionaries `session.execute` would take: columns, and bind parameters such
    as an UPDATE's `_id`)."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "sqlite":
        session.execute(statement, [dict(zip(keys, row, strict=True)) for row in rows])
        return
    compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    names = compiled.positiontup or []
    at = {key: index for index, key in enumerate(keys)}
    order = [at[name] for name in names]
    pick: Callable[[Sequence[Any]], Any] = itemgetter(*order)
    if len(order) == 1:
        pick = lambda row: (row[order[0]],)  # noqa: E731 - itemgetter of one index is no tuple
    processors = [
        (position, _remembering(processor))
        for position, name in enumerate(names)
        if (processor := compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    if processors:
        params: list[Any] = []
        for row in rows:
            values = list(pick(row))
            for position, process in processors:
                values[position] = process(values[position])
            params.append(tuple(values))
    else:
        params = [pick(row) for row in rows]
    connection.exec_driver_sql(compiled.string, params)


def _remembering(process: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The processor, remembering its last answer: a batch's timestamps are one datetime, and
    formatting it for every row cost as much as the rest of the row."""
    last: list[Any] = [object(), None]

    def remembered(value: Any) -> Any:
        if value is not last[0]:
            last[0], last[1] = value, process(value)
        return last[1]

    return remembered


def insert_rows(
    session: Session, table: Table, keys: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """INSERT `rows` (tuples of the columns named by `keys`, in order) into `table`: by COPY on
    PostgreSQL (psycopg), by `execute_rows` elsewhere. Columns left out get their server
    defaults, as with an INSERT; rows leaving out a column with a Python-side default (which
    neither COPY nor `execute_rows` applies) take SQLAlchemy's own path."""
    if not rows:
        return
    if _python_default_left_out(table, keys):
        session.execute(table.insert(), [dict(zip(keys, row, strict=True)) for row in rows])
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg":
        execute_rows(session, table.insert(), keys, rows)
        return
    columns = [table.c[key] for key in keys]
    driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    processors = [
        (position, _remembering(process))
        for position, column in enumerate(columns)
        if (process := _copy_processor(column.type, dialect, driver))
    ]
    quote = dialect.identifier_preparer
    sql = (
        f"COPY {quote.format_table(table)} ({', '.join(quote.quote(c.name) for c in columns)}) "
        "FROM STDIN"
    )
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                if processors:
                    values = list(row)
                    for position, process in processors:
                        values[position] = process(values[position])
                    row = values
                copy.write_row(row)
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(connection, sql, exc) from exc


def _python_default_left_out(table: Table, keys: Sequence[str]) -> bool:
    given = set(keys)
    return any(c.default is not None and c.key not in given for c in table.columns)


def _copy_processor(
    type_: Any, dialect: Dialect, driver: psycopg.Connection[Any]
) -> Callable[[Any], Any] | None:
    """What SQLAlchemy's INSERT would bind, as COPY's text format needs it: the type's own bind
    processor (psycopg's Json wrapper for JSON, and 'null' for None unless none_as_null), and
    an aware datetime bound to a naive column turned naive in the session's time zone, as the
    INSERT's cast to TIMESTAMP WITHOUT TIME ZONE does (COPY would drop its offset)."""
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if not (isinstance(type_, DateTime) and not type_.timezone):
        return process
    zone = driver.info.timezone

    def naive(value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is not None:
            value = value.astimezone(zone).replace(tzinfo=None)
        return process(value) if process else value

    return naive


def _wrapped(connection: Connection, sql: str, exc: Any) -> StatementError:
    """The driver's error as SQLAlchemy raises it from `execute` (IntegrityError,
    OperationalError, ...; a lost connection invalidated), for the callers' handling."""
    dialect = connection.dialect
    lost = dialect.is_disconnect(exc, connection.connection.dbapi_connection, None)
    if lost:
        connection.invalidate(exc)
    return DBAPIError.instance(
        sql, None, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost, dialect=dialect
    )


def among(
    session: Session, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """`column IN values`, on PostgreSQL as `column = ANY(array)`: one parameter instead of one
    per value (rendering and converting a batch's 700-key IN list cost SQLAlchemy and psycopg
    about 2.5 ms a statement)."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    return column.in_(values)
